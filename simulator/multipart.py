"""A small multipart/form-data parser (the `cgi` module is deprecated and gone in 3.13).

Exact on bytes: a part's body is everything between the blank line after its headers and the CRLF
that precedes the next delimiter, so binary photos keep their size to the byte.
"""
from __future__ import annotations

from dataclasses import dataclass
from email.message import Message


@dataclass
class UploadedFile:
    field: str
    filename: str
    content_type: str
    data: bytes


class MultipartError(ValueError):
    pass


def _header_params(raw_headers: bytes) -> Message:
    message = Message()
    for line in raw_headers.decode("utf-8", "replace").split("\r\n"):
        name, sep, value = line.partition(":")
        if sep:
            message[name.strip()] = value.strip()
    return message


def boundary_of(content_type: str) -> str:
    message = Message()
    message["Content-Type"] = content_type
    boundary = message.get_param("boundary")
    if not boundary or message.get_content_type() != "multipart/form-data":
        raise MultipartError("not multipart/form-data with a boundary")
    return str(boundary)


def parse_multipart(body: bytes, content_type: str) -> tuple[dict[str, list[str]], list[UploadedFile]]:
    """Split a multipart/form-data body into text fields (name -> values) and uploaded files."""
    delimiter = b"\r\n--" + boundary_of(content_type).encode("latin-1")
    # Prefixing CRLF lets the first delimiter match like every other one.
    chunks = (b"\r\n" + body).split(delimiter)
    if len(chunks) < 2 or not chunks[-1].startswith(b"--"):
        raise MultipartError("missing closing delimiter")
    fields: dict[str, list[str]] = {}
    files: list[UploadedFile] = []
    for chunk in chunks[1:-1]:
        # After the delimiter comes optional whitespace then CRLF, the headers, a blank line.
        _, crlf, rest = chunk.partition(b"\r\n")
        raw_headers, blank, data = rest.partition(b"\r\n\r\n")
        if not crlf or not blank:
            raise MultipartError("malformed part")
        headers = _header_params(raw_headers)
        name = headers.get_param("name", header="content-disposition")
        if name is None:
            continue
        name = str(name)
        filename = headers.get_param("filename", header="content-disposition")
        if filename is not None:
            files.append(UploadedFile(name, str(filename), headers.get_content_type(), data))
        else:
            fields.setdefault(name, []).append(data.decode("utf-8", "replace"))
    return fields, files
