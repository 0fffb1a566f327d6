"""The ctypes mirrors against the C headers: every struct's size and every
field's offset as the C compiler sees them, the field names as the headers
declare them, and the status codes."""

import ctypes
import os
import re
import shutil
import subprocess

import pytest

from n4d import _lib, errors



@pytest.fixture(scope="module")
def header_text(repo):
    text = ""
    inc = os.path.join(repo, "include", "n4d")
    for h in sorted(os.listdir(inc)):
        with open(os.path.join(inc, h)) as f:
            text += f.read() + "\n"
    return text


def _fields(cls):
    return [f[0] for f in cls._fields_]


def test_sizes_and_offsets_match_the_c_compiler(repo, tmp_path):
    cc = os.environ.get("CC") or shutil.which("cc") or shutil.which("gcc")
    if not cc:
        pytest.skip("no C compiler to check the struct layouts with")
    lines = ["#include <stdio.h>", "#include <stddef.h>", '#include "n4d.h"', "int main(void) {"]
    expect = []
    for name, cls in _lib.STRUCTS.items():
        lines.append('printf("%%s %%zu\\n", "%s", sizeof(%s));' % (name, name))
        expect.append("%s %d" % (name, ctypes.sizeof(cls)))
        for f in _fields(cls):
            lines.append('printf("%%s.%%s %%zu\\n", "%s", "%s", offsetof(%s, %s));'
                         % (name, f, name, f))
            expect.append("%s.%s %d" % (name, f, getattr(cls, f).offset))
        lines.append('printf("%%s/align %%zu\\n", "%s", _Alignof(%s));' % (name, name))
        expect.append("%s/align %d" % (name, ctypes.alignment(cls)))
    lines += ["return 0;", "}"]
    src = tmp_path / "layout.c"
    src.write_text("\n".join(lines) + "\n")
    exe = tmp_path / "layout"
    r = subprocess.run([cc, "-std=c11", "-I", os.path.join(repo, "include"), str(src), "-o",
                        str(exe)], capture_output=True, text=True)
    assert r.returncode == 0, "a mirrored field does not exist in C:\n" + r.stderr
    got = subprocess.run([str(exe)], capture_output=True, text=True, check=True).stdout.split("\n")
    bad = [(e, g) for e, g in zip(expect, got) if e != g]
    assert not bad, "ctypes (left) and C (right) disagree: %s" % bad[:10]
    assert len(got) - 1 == len(expect)


def _c_struct_fields(text, name):
    m = re.search(r"typedef struct %s \{(.*?)\} %s;" % (name, name), text, re.S)
    assert m, "struct %s not found in the headers" % name
    body = re.sub(r"/\*.*?\*/", "", m.group(1), flags=re.S)
    names = []
    for decl in body.split(";"):
        decl = decl.strip()
        if not decl:
            continue
        fp = re.search(r"\(\s*\*\s*(\w+)\s*\)", decl)
        if fp:  # a function pointer
            names.append(fp.group(1))
            continue
        # "type a, b[4], *c": the declarators after the type
        first, *rest = [d.strip() for d in decl.split(",")]
        names.append(re.search(r"(\w+)\s*(\[[^\]]*\])?$", first).group(1))
        for d in rest:
            names.append(re.search(r"(\w+)\s*(\[[^\]]*\])?$", d.lstrip("*").strip()).group(1))
    return names


def test_field_names_and_order_match_the_headers(header_text):
    for name, cls in _lib.STRUCTS.items():
        assert _fields(cls) == _c_struct_fields(header_text, name), name


def test_every_header_struct_passed_by_pointer_is_mirrored(header_text):
    """A struct added to a header that the bindings pass must be mirrored."""
    declared = set(re.findall(r"typedef struct (\w+) \{", header_text))
    assert declared <= set(_lib.STRUCTS), declared - set(_lib.STRUCTS)


def test_status_codes_match_the_header(header_text):
    codes = {int(v): k for k, v in re.findall(r"N4D_E_(\w+) = (-\d+)", header_text)}
    assert set(codes) == set(errors.BY_STATUS)
    for code, cls in errors.BY_STATUS.items():
        assert cls.status == code
        assert cls.__doc__.startswith("N4D_E_%s:" % codes[code]), (code, cls)


def test_every_prototype_exists():
    L = _lib.lib()
    for name in _lib._PROTOTYPES:
        assert hasattr(L, name), name
