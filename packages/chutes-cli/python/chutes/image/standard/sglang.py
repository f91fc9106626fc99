SGLANG = "chutes/sglang:nightly-2025111800"
