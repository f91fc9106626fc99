"""A recorder of the chutes SDK's chute DSL, shipped with @confidential-ai/chutes-cli.

It is not the Python chutes SDK: it lays out the same import names (chutes.image, chutes.chute, the templates) so
that `chutes build` / `chutes deploy` of the TypeScript CLI can read a Python chute module without the SDK
installed. Every class only records what the module declares; nothing here runs a chute.
"""

RECORDER = True
