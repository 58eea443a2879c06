# SPDX-License-Identifier: Apache-2.0
"""A PEP 517 build backend in the standard library alone: the package is pure
Python (ctypes), so its wheel is the kilo/ folder, the metadata and a RECORD.
Name and version come from pyproject.toml's [project] table."""

import base64
import hashlib
import os
import tarfile
import tomllib
import zipfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PACKAGE = "kilo"
SDIST_FILES = ("pyproject.toml", "README.md", "backend", PACKAGE)


def _project():
    with open(os.path.join(ROOT, "pyproject.toml"), "rb") as f:
        project = tomllib.load(f)["project"]
    return project["name"], project["version"], project.get("description", "")


def _package_files():
    for folder, dirs, files in os.walk(os.path.join(ROOT, PACKAGE)):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__")
        for name in sorted(files):
            if name.endswith(".py"):
                path = os.path.join(folder, name)
                yield os.path.relpath(path, ROOT), path


def _metadata(name, version, summary):
    return ("Metadata-Version: 2.1\nName: %s\nVersion: %s\nSummary: %s\nLicense: Apache-2.0\n"
            "Requires-Python: >=3.11\n" % (name, version, summary))


def _record_line(arcname, data):
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return "%s,sha256=%s,%d\n" % (arcname, digest, len(data))


def get_requires_for_build_wheel(config_settings=None):
    return []


def get_requires_for_build_sdist(config_settings=None):
    return []


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    name, version, summary = _project()
    dist_name = name.replace("-", "_")
    dist_info = "%s-%s.dist-info" % (dist_name, version)
    wheel_name = "%s-%s-py3-none-any.whl" % (dist_name, version)
    entries = [(arcname, open(path, "rb").read()) for arcname, path in _package_files()]
    entries.append((dist_info + "/METADATA", _metadata(name, version, summary).encode()))
    entries.append((dist_info + "/WHEEL", b"Wheel-Version: 1.0\nGenerator: kilo_build\n"
                    b"Root-Is-Purelib: true\nTag: py3-none-any\n"))
    record = "".join(_record_line(arcname, data) for arcname, data in entries) + dist_info + "/RECORD,,\n"
    entries.append((dist_info + "/RECORD", record.encode()))
    with zipfile.ZipFile(os.path.join(wheel_directory, wheel_name), "w", zipfile.ZIP_DEFLATED) as wheel:
        for arcname, data in entries:
            wheel.writestr(arcname, data)
    return wheel_name


def build_sdist(sdist_directory, config_settings=None):
    name, version, summary = _project()
    base = "%s-%s" % (name.replace("-", "_"), version)
    with tarfile.open(os.path.join(sdist_directory, base + ".tar.gz"), "w:gz") as sdist:
        for entry in SDIST_FILES:
            sdist.add(os.path.join(ROOT, entry), os.path.join(base, entry),
                      filter=lambda info: None if "__pycache__" in info.name else info)
        info = tarfile.TarInfo(base + "/PKG-INFO")
        data = _metadata(name, version, summary).encode()
        info.size = len(data)
        sdist.addfile(info, __import__("io").BytesIO(data))
    return base + ".tar.gz"
