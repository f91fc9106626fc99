from fastapi.responses import FileResponse, JSONResponse, Response, StreamingResponse  # noqa: F401
