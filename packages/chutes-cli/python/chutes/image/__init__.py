"""Records `Image` DSL calls; the TypeScript CLI replays them to render and validate the Dockerfile."""

import uuid


class Image:
    def __init__(self, username, name, tag, readme=""):
        self._username = username
        self._name = name
        self._tag = tag
        self._readme = readme
        self._calls = []

    @property
    def username(self):
        return self._username

    @property
    def name(self):
        return self._name

    @property
    def tag(self):
        return self._tag

    @property
    def readme(self):
        return self._readme

    @property
    def uid(self):
        return str(uuid.uuid5(uuid.NAMESPACE_OID, f"{self._username}/{self._name}:{self._tag}".lower()))

    def _record(self, method, *args, **kwargs):
        self._calls.append([method, list(args), kwargs])
        return self

    def from_base(self, base_image):
        return self._record("from_base", base_image)

    def with_maintainer(self, maintainer):
        return self._record("with_maintainer", maintainer)

    def set_user(self, user):
        return self._record("set_user", user)

    def set_workdir(self, directory):
        return self._record("set_workdir", directory)

    def with_python(self, version="3.10.15"):
        return self._record("with_python", version)

    def apt_install(self, package):
        return self._record("apt_install", package)

    def apt_remove(self, package):
        return self._record("apt_remove", package)

    def with_env(self, key, value):
        return self._record("with_env", key, value)

    def run_command(self, command):
        return self._record("run_command", command)

    def add(self, source, dest, keep_git_dir=False, checksum=None, chown=None, chmod=None, exclude=None, build_dir=None):
        options = {}
        if keep_git_dir:
            options["keep_git_dir"] = True
        for key, value in (("checksum", checksum), ("chown", chown), ("chmod", chmod), ("build_dir", build_dir)):
            if value is not None:
                options[key] = value
        if exclude is not None:
            options["exclude"] = list(exclude)
        return self._record("add", source, dest, **options)

    def with_entrypoint(self, *args):
        return self._record("with_entrypoint", *args)

    def describe(self):
        return {
            "username": self._username,
            "name": self._name,
            "tag": self._tag,
            "readme": self._readme,
            "calls": self._calls,
        }
