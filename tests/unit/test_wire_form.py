from __future__ import annotations

import re

import pytest
from billing.domain.errors import MalformedInput
from billing.wire.form import MAX_PARAMS, parse_multipart, parse_urlencoded

# http_build_query($changes) for the reference's "Modify invoice" example, as PHP encodes it
# (PHP_QUERY_RFC1738: brackets percent-encoded, spaces as "+").
PHP_MODIFY_INVOICE = (
    b"invoice%5Blower_annotation%5D=New+lower+annotations"
    b"&invoice%5Bupper_annotation%5D=New+upper+annotations"
    b"&invoice%5Bnote%5D=New+notes"
    b"&invoice%5Bdocument_positions%5D%5B1%5D%5Bdescription%5D=potatoes"
    b"&invoice%5Bdocument_positions%5D%5B1%5D%5Bunit%5D=kg"
    b"&invoice%5Bdocument_positions%5D%5B1%5D%5Bunit_count%5D=4"
    b"&invoice%5Bdocument_positions%5D%5B1%5D%5Binput_currency_price%5D=0.74"
    b"&invoice%5Bdocument_positions%5D%5B1%5D%5Bvat%5D=10"
    b"&invoice%5Bdocument_positions%5D%5B2%5D%5Bdescription%5D=Brussels+sprouts"
    b"&invoice%5Bdocument_positions%5D%5B2%5D%5Bunit%5D=g"
    b"&invoice%5Bdocument_positions%5D%5B2%5D%5Bunit_count%5D=250"
    b"&invoice%5Bdocument_positions%5D%5B2%5D%5Binput_currency_price%5D=51"
    b"&invoice%5Bdocument_positions%5D%5B2%5D%5Bvat%5D=19"
)

# http_build_query($email_params) for the reference's "Send invoice through email" example.
PHP_EMAIL = (
    b"to%5B0%5D=client%40example.com&to%5B1%5D=accounting%40example.com"
    b"&bcc%5B0%5D=me%40example.com&bcc%5B1%5D=archive%40example.com"
    b"&body=Dear+client+%0A%0APlease+pay+the+attached+bill.%0A%0AThank+you%21%0ATeam"
)

# What `curl -F "client[name]=MyCompany"` sends (captured from curl 8).
CURL_F_TYPE = "multipart/form-data; boundary=------------------------1b190744e5e3c55f"
CURL_F_BODY = (
    b"--------------------------1b190744e5e3c55f\r\n"
    b'Content-Disposition: form-data; name="client[name]"\r\n\r\n'
    b"MyCompany\r\n"
    b"--------------------------1b190744e5e3c55f--\r\n"
)

# `curl -F "client[name]=Ștefan Ță" -F $'client[note]=a\nb' -F "file=@/etc/hostname"`
CURL_F_MIXED_TYPE = "multipart/form-data; boundary=------------------------882dd5ccb3e4e75a"
CURL_F_MIXED_BODY = (
    b"--------------------------882dd5ccb3e4e75a\r\n"
    b'Content-Disposition: form-data; name="client[name]"\r\n\r\n'
    b"\xc8\x98tefan \xc8\x9a\xc4\x83\r\n"
    b"--------------------------882dd5ccb3e4e75a\r\n"
    b'Content-Disposition: form-data; name="client[note]"\r\n\r\n'
    b"a\nb\r\n"
    b"--------------------------882dd5ccb3e4e75a\r\n"
    b'Content-Disposition: form-data; name="file"; filename="hostname"\r\n'
    b"Content-Type: application/octet-stream\r\n\r\n"
    b"vm\n\r\n"
    b"--------------------------882dd5ccb3e4e75a--\r\n"
)


# ------------------------------------------------------------------------------ parse_urlencoded


def test_reference_curl_d_create_client() -> None:
    assert parse_urlencoded(b"client[name]=MyCompany&client[uid]=999999") == {
        "client": {"name": "MyCompany", "uid": "999999"}
    }


def test_php_modify_invoice() -> None:
    assert parse_urlencoded(PHP_MODIFY_INVOICE) == {
        "invoice": {
            "lower_annotation": "New lower annotations",
            "upper_annotation": "New upper annotations",
            "note": "New notes",
            "document_positions": {
                "1": {
                    "description": "potatoes",
                    "unit": "kg",
                    "unit_count": "4",
                    "input_currency_price": "0.74",
                    "vat": "10",
                },
                "2": {
                    "description": "Brussels sprouts",
                    "unit": "g",
                    "unit_count": "250",
                    "input_currency_price": "51",
                    "vat": "19",
                },
            },
        }
    }


def test_php_email_params() -> None:
    assert parse_urlencoded(PHP_EMAIL) == {
        "to": {"0": "client@example.com", "1": "accounting@example.com"},
        "bcc": {"0": "me@example.com", "1": "archive@example.com"},
        "body": "Dear client \n\nPlease pay the attached bill.\n\nThank you!\nTeam",
    }


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("a[b][c]=1", {"a": {"b": {"c": "1"}}}),
        ("a[]=1&a[]=2", {"a": ["1", "2"]}),
        ("to[]=x%40y.ro&to[]=z%40y.ro&cc[]=", {"to": ["x@y.ro", "z@y.ro"], "cc": [""]}),
        ("a=1&a=2", {"a": "2"}),
        ("a[b]=1&a[b]=2", {"a": {"b": "2"}}),
        ("q=a+b%2Bc%20d", {"q": "a b+c d"}),
        ("name=%C8%98tefan", {"name": "Ștefan"}),
        ("name=Ștefan", {"name": "Ștefan"}),
        ("flag&x=", {"flag": "", "x": ""}),
        ("&&a=1&&", {"a": "1"}),
        ("", {}),
        ("a=b=c", {"a": "b=c"}),
        ("a[x]=1&a[][y]", None),
        ("p[][x]=1&p[][y]=2&p[][x]=3", {"p": [{"x": "1", "y": "2"}, {"x": "3"}]}),
        ("p[][x][a]=1&p[][x][b]=2&p[][x][a]=3", {"p": [{"x": {"a": "1", "b": "2"}}, {"x": {"a": "3"}}]}),
        ("m[][]=1&m[][]=2", {"m": [["1"], ["2"]]}),
        ("a.b=1&a-b=2&a b=3", {"a.b": "1", "a-b": "2", "a b": "3"}),
    ],
)
def test_rails_nested_params(body: str, expected: dict[str, object] | None) -> None:
    if expected is None:
        with pytest.raises(MalformedInput):
            parse_urlencoded(body)
    else:
        assert parse_urlencoded(body) == expected


def test_str_and_bytes_agree() -> None:
    assert parse_urlencoded(PHP_EMAIL.decode()) == parse_urlencoded(PHP_EMAIL)


@pytest.mark.parametrize(
    ("body", "parameter"),
    [
        ("a=1&a[b]=2", "'a'"),
        ("a[b]=2&a=1", "'a'"),
        ("a[]=1&a[b]=2", "'a'"),
        ("a[b]=1&a[]=2", "'a'"),
        ("client[name]=x&client[name][first]=y", "'client[name]'"),
        ("client[name][first]=y&client[name]=x", "'client[name]'"),
        ("a[]=1&a=2", "'a'"),
    ],
)
def test_conflicting_shapes_name_the_parameter(body: str, parameter: str) -> None:
    with pytest.raises(
        MalformedInput, match=re.escape(f"form parameter {parameter} is sent with conflicting")
    ):
        parse_urlencoded(body)


@pytest.mark.parametrize("body", ["a[b=1", "[a]=1", "a]=1", "a[b]c=1", "a[[b]]=1", "=1"])
def test_malformed_names(body: str) -> None:
    with pytest.raises(MalformedInput, match="malformed form parameter name"):
        parse_urlencoded(body)


@pytest.mark.parametrize("body", [b"a=%zz", b"a=%4", b"a=100%", b"a%=1", b"a=%%41"])
def test_invalid_percent_encoding(body: bytes) -> None:
    with pytest.raises(MalformedInput, match="invalid %-encoding"):
        parse_urlencoded(body)


@pytest.mark.parametrize("body", [b"a=%FF", b"a=\xff", b"%C3=1", b"a=\xc8"])
def test_non_utf8(body: bytes) -> None:
    with pytest.raises(MalformedInput, match="not valid UTF-8"):
        parse_urlencoded(body)


def test_parameter_count_limit() -> None:
    ok = "&".join(f"p{i}=x" for i in range(MAX_PARAMS))
    assert len(parse_urlencoded(ok)) == MAX_PARAMS
    with pytest.raises(MalformedInput, match="more than 1000 form parameters"):
        parse_urlencoded(ok + "&one=more")


def test_nesting_limit() -> None:
    assert parse_urlencoded("a" + "[b]" * 15 + "=1")["a"]["b"]["b"]
    with pytest.raises(MalformedInput, match="nested deeper than 16"):
        parse_urlencoded("a" + "[b]" * 16 + "=1")
    with pytest.raises(MalformedInput, match="nested deeper than 16"):
        parse_urlencoded("a" + "[]" * 40 + "=1")


def test_oversize_body() -> None:
    with pytest.raises(MalformedInput, match="larger than"):
        parse_urlencoded(b"a=" + b"x" * (2 * 1024 * 1024))


# ------------------------------------------------------------------------------- parse_multipart


def test_reference_curl_f_modify_client() -> None:
    assert parse_multipart(CURL_F_BODY, CURL_F_TYPE) == {"client": {"name": "MyCompany"}}


def test_multipart_text_utf8_and_files() -> None:
    assert parse_multipart(CURL_F_MIXED_BODY, CURL_F_MIXED_TYPE) == {
        "client": {"name": "Ștefan Ță", "note": "a\nb"},
        "file": b"vm\n",
    }


def _multipart(*parts: bytes, boundary: bytes = b"XyZ") -> bytes:
    body = b"".join(b"--" + boundary + b"\r\n" + part + b"\r\n" for part in parts)
    return body + b"--" + boundary + b"--\r\n"


TYPE = "multipart/form-data; boundary=XyZ"


def test_multipart_lists_and_charsets() -> None:
    body = _multipart(
        b'Content-Disposition: form-data; name="to[]"\r\n\r\na@x.ro',
        b'Content-Disposition: form-data; name="to[]"\r\n\r\nb@x.ro',
        b'Content-Disposition: form-data; name="n"\r\n'
        b"Content-Type: text/plain; charset=iso-8859-1\r\n\r\ncaf\xe9",
        b'Content-Disposition: form-data; name="empty"\r\n\r\n',
    )
    assert parse_multipart(body, TYPE) == {"to": ["a@x.ro", "b@x.ro"], "n": "café", "empty": ""}


@pytest.mark.parametrize(
    ("body", "content_type", "message"),
    [
        (CURL_F_BODY, "multipart/form-data", "no boundary"),
        (CURL_F_BODY, "multipart/form-data; boundary=other", "malformed multipart body"),
        (CURL_F_BODY[:-30], CURL_F_TYPE, "malformed multipart body"),
        (b"garbage", TYPE, "malformed multipart body"),
        (b"", TYPE, "malformed multipart body"),
        (CURL_F_BODY, CURL_F_TYPE + "\r\nX-Evil: 1", "invalid multipart Content-Type"),
        (_multipart(b"Content-Disposition: form-data\r\n\r\nx"), TYPE, "without a form-data name"),
        (_multipart(b'Content-Disposition: attachment; name="a"\r\n\r\nx'), TYPE, "without a form-data name"),
        (_multipart(b"X-Other: 1\r\n\r\nx"), TYPE, "without a form-data name"),
        (
            _multipart(b'Content-Disposition: form-data; name="a"\r\n\r\n\xff\xfe'),
            TYPE,
            "not valid utf-8 text",
        ),
        (
            _multipart(
                b'Content-Disposition: form-data; name="a"\r\nContent-Type: text/plain; charset=nope\r\n\r\nx'
            ),
            TYPE,
            "not valid nope text",
        ),
        (
            _multipart(
                b'Content-Disposition: form-data; name="a"\r\n'
                b"Content-Type: multipart/mixed; boundary=in\r\n\r\n"
                b"--in\r\n\r\nx\r\n--in--"
            ),
            TYPE,
            "not a plain value or file",
        ),
        (
            _multipart(b'Content-Disposition: form-data; name="a[b"\r\n\r\nx'),
            TYPE,
            "malformed form parameter name",
        ),
        (b"x" * (1024 * 1024 + 1), TYPE, "larger than"),
    ],
)
def test_broken_multipart(body: bytes, content_type: str, message: str) -> None:
    with pytest.raises(MalformedInput, match=message):
        parse_multipart(body, content_type)
