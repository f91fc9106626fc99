"""JSON Schemas of cord functions, following the rules of the pinned chutes SDK (chutes/util/schema.py at
chutesai/chutes@5cb5079) so the deploy JSON carries the same schemas: pydantic models become `$ref`s into a
`definitions` map (pydantic itself renders each model), plain types map to JSON types, and anything else is `{}`.
Only `typing.Union` counts as a union (a `X | None` annotation is not one), as in the SDK."""

import enum
import inspect
from typing import Dict, List, Literal, Set, Tuple, Union, get_args, get_origin, get_type_hints

_SIMPLE = {
    str: {"type": "string"},
    int: {"type": "integer"},
    float: {"type": "number"},
    bool: {"type": "boolean"},
    list: {"type": "array", "items": {}},
    dict: {"type": "object"},
}


def _base_model():
    try:
        from pydantic import BaseModel
    except ImportError:
        return None
    return BaseModel


def is_model(value):
    base = _base_model()
    return base is not None and inspect.isclass(value) and issubclass(value, base)


def _definition(schema):
    return {key: item for key, item in schema.items() if key not in ("title", "definitions")}


class SchemaExtractor:
    @classmethod
    def get_minimal_schema(cls, model):
        if not is_model(model):
            raise ValueError("minimal_input_schema must be a Pydantic model")
        schema = model.model_json_schema(ref_template="#/definitions/{model}")
        wrapped = {
            "type": "object",
            "properties": {"input_args": {"$ref": f"#/definitions/{model.__name__}"}},
            "required": ["input_args"],
            "definitions": {model.__name__: _definition(schema)},
        }
        if "definitions" in schema:
            wrapped["definitions"].update(schema["definitions"])
        return wrapped

    @classmethod
    def _get_schema_for_type(cls, hint, definitions):
        if hint is None:
            return {"type": "null"}
        if inspect.isclass(hint) and issubclass(hint, enum.Enum):
            values = [member.value for member in hint]
            for python_type, json_type in ((str, "string"), (int, "integer"), (float, "number")):
                if all(isinstance(value, python_type) for value in values):
                    return {"type": json_type, "enum": values}
            return {"enum": values}
        if is_model(hint):
            name = hint.__name__
            if name not in definitions:
                schema = hint.model_json_schema(ref_template="#/definitions/{model}")
                definitions[name] = _definition(schema)
                if "definitions" in schema:
                    definitions.update(schema["definitions"])
            return {"$ref": f"#/definitions/{name}"}
        if hint in _SIMPLE:
            return dict(_SIMPLE[hint])
        origin, args = get_origin(hint), get_args(hint)
        if origin is Union:
            schemas = [cls._get_schema_for_type(arg, definitions) for arg in args]
            if len(schemas) == 2 and {"type": "null"} in schemas:
                other = next(schema for schema in schemas if schema != {"type": "null"})
                return {**other, "nullable": True}
            return {"oneOf": schemas}
        if origin in (list, List):
            return {"type": "array", "items": cls._get_schema_for_type(args[0] if args else None, definitions) if args else {}}
        if origin in (dict, Dict):
            if not args:
                return {"type": "object"}
            return {"type": "object", "additionalProperties": cls._get_schema_for_type(args[1], definitions)}
        if origin in (tuple, Tuple):
            return {
                "type": "array",
                "items": [cls._get_schema_for_type(arg, definitions) for arg in args],
                "minItems": len(args),
                "maxItems": len(args),
            }
        if origin in (set, Set):
            items = cls._get_schema_for_type(args[0], definitions) if args else {}
            return {"type": "array", "items": items, "uniqueItems": True}
        if origin is Literal:
            return {"enum": list(args)}
        return {}

    @classmethod
    def extract_schemas(cls, func):
        hints = get_type_hints(func)
        return_type = hints.pop("return", None)
        definitions = {}
        properties = {name: cls._get_schema_for_type(hint, definitions) for name, hint in hints.items()}
        input_schema = {
            "type": "object",
            "properties": properties,
            "required": list(properties.keys()),
            "definitions": definitions,
        }
        output_schema = None
        if return_type:
            output_schema = cls._get_schema_for_type(return_type, definitions)
            if "$ref" in output_schema:
                output_schema = {"type": "object", **definitions[output_schema["$ref"].split("/")[-1]]}
        return input_schema, output_schema
