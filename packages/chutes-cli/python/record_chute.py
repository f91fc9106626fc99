"""Reads one chute from a Python chute module with the recorder in this directory (no chutes SDK needed) and
writes its definition as JSON: `python3 record_chute.py MODULE_FILE VARIABLE OUT_FILE`.

OUT_FILE receives {"ok": true, "chute": {...}} or {"ok": false, "error": {"kind", "type", "message"}}, where kind
is "definition" for the SDK's own validation errors and "load" for anything else. The module's own output goes to
stderr. Used by @confidential-ai/chutes-cli (`chutes build` / `chutes deploy` on a .py module)."""

import importlib.util
import json
import os
import sys
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))


def main():
    module_file, variable, out_file = sys.argv[1:4]
    module_file = os.path.abspath(module_file)
    sys.path.insert(0, HERE)
    for directory in (os.getcwd(), os.path.dirname(module_file)):
        if directory not in sys.path:
            sys.path.insert(1, directory)
    sys.path.append(os.path.join(HERE, "fallbacks"))
    for name in [name for name in sys.modules if name == "chutes" or name.startswith("chutes.")]:
        del sys.modules[name]

    from chutes.chute.base import Chute, ChutePack
    from chutes.exception import DefinitionError

    def finish(result):
        with open(out_file, "w", encoding="utf-8") as handle:
            json.dump(result, handle)

    stdout = sys.stdout
    sys.stdout = sys.stderr
    try:
        name = os.path.splitext(os.path.basename(module_file))[0]
        spec = importlib.util.spec_from_file_location(name, module_file)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
        if not hasattr(module, variable):
            raise LookupError(f"Unable to find chute '{variable}' in module '{name}'")
        chute = getattr(module, variable)
        if isinstance(chute, ChutePack):
            chute = chute.chute
        if not isinstance(chute, Chute):
            raise TypeError(f"'{variable}' in module '{name}' is not of type Chute or ChutePack")
        finish({"ok": True, "chute": chute.describe()})
    except DefinitionError as error:
        finish({"ok": False, "error": {"kind": "definition", "type": type(error).__name__, "message": str(error)}})
    except BaseException as error:  # noqa: BLE001 - every failure of the user's module is reported, never raised
        frames = traceback.format_exception(type(error), error, error.__traceback__)
        finish(
            {
                "ok": False,
                "error": {
                    "kind": "load",
                    "type": type(error).__name__,
                    "message": str(error),
                    "traceback": "".join(frames[-6:]),
                },
            }
        )
    finally:
        sys.stdout = stdout


if __name__ == "__main__":
    main()
