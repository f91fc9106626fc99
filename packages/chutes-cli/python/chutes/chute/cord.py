"""Records a cord: its options and, once it decorates a function, the function name and schemas."""

from chutes.util.schema import SchemaExtractor, is_model


class Cord:
    def __init__(
        self,
        app,
        stream=False,
        path=None,
        passthrough_path=None,
        passthrough=False,
        passthrough_port=None,
        public_api_path=None,
        public_api_method="POST",
        method="POST",
        provision_timeout=180,
        input_schema=None,
        minimal_input_schema=None,
        output_content_type=None,
        output_schema=None,
        sglang_passthrough=False,
        **session_kwargs,
    ):
        self._app = app
        self._func = None
        self.options = {
            "stream": stream,
            "path": path,
            "passthrough_path": passthrough_path,
            "passthrough": passthrough,
            "passthrough_port": passthrough_port,
            "public_api_path": public_api_path,
            "public_api_method": public_api_method,
            "method": method,
            "provision_timeout": provision_timeout,
            "sglang_passthrough": sglang_passthrough,
        }
        self.input_models = [input_schema] if input_schema and is_model(input_schema) else None
        self.input_schema = SchemaExtractor.get_minimal_schema(input_schema) if input_schema else None
        self.minimal_input_schema = (
            SchemaExtractor.get_minimal_schema(minimal_input_schema) if minimal_input_schema else None
        )
        self.output_content_type = output_content_type
        self.output_schema = output_schema

    def __call__(self, func):
        self._func = func
        in_schema, out_schema = SchemaExtractor.extract_schemas(func)
        if not self.input_schema:
            self.input_schema = in_schema
        if not self.output_schema:
            self.output_schema = out_schema
        if not self.output_content_type and isinstance(out_schema, dict):
            self.output_content_type = "application/json" if out_schema.get("type") == "object" else "text/plain"
        return func

    def describe(self):
        if self._func is None:
            raise ValueError("a cord was declared with chute.cord(...) but never decorated a function")
        return {
            "function": self._func.__name__,
            **self.options,
            "input_schema": self.input_schema,
            "minimal_input_schema": self.minimal_input_schema,
            "output_schema": self.output_schema,
            "output_content_type": self.output_content_type,
        }
