"""Errors a chute definition can raise while it is recorded."""


class DefinitionError(ValueError):
    """An invalid chute definition; the message is the SDK's own wording and is shown as is."""


class InvalidPath(DefinitionError):
    pass


class DuplicatePath(DefinitionError):
    pass
