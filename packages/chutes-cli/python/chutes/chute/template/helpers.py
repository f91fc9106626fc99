"""The one network helper the templates use while a module is read: the current main commit of a model on the
Hugging Face Hub, suggested when `revision=` is missing (HF_ENDPOINT and HF_TOKEN are honoured, as huggingface_hub
does; proxies come from the environment through urllib)."""

import json
import os
import urllib.parse
import urllib.request


def get_current_hf_commit(model_name):
    endpoint = os.environ.get("HF_ENDPOINT", "https://huggingface.co").rstrip("/")
    url = f"{endpoint}/api/models/{urllib.parse.quote(model_name, safe='/')}/refs"
    request = urllib.request.Request(url, headers={"Accept": "application/json"})
    token = os.environ.get("HF_TOKEN")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(request, timeout=10) as response:
        data = json.loads(response.read().decode("utf-8"))
    for branch in data.get("branches", []):
        if branch.get("ref") == "refs/heads/main":
            return branch.get("targetCommit")
    return None
