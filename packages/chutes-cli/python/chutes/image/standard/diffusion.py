DIFFUSION = "chutes/diffusion:0.34.0.po"
