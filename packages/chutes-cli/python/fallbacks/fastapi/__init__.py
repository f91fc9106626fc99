from fastapi.responses import FileResponse, JSONResponse, Response, StreamingResponse  # noqa: F401


class FastAPI:
    def __init__(self, *args, **kwargs):
        pass


class Request:
    pass


class HTTPException(Exception):
    def __init__(self, status_code=500, detail=None, headers=None):
        super().__init__(detail)
        self.status_code = status_code
        self.detail = detail


class _Status:
    def __getattr__(self, name):
        digits = [part for part in name.split("_") if part.isdigit()]
        return int(digits[0]) if digits else 0


status = _Status()
