class Response:
    def __init__(self, content=None, status_code=200, headers=None, media_type=None, **kwargs):
        self.body = content
        self.status_code = status_code
        self.headers = headers or {}
        self.media_type = media_type


class JSONResponse(Response):
    pass


class ORJSONResponse(Response):
    pass


class FileResponse(Response):
    pass


class StreamingResponse(Response):
    pass
