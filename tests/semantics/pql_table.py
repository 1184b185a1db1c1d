"""Adobe rows: PQL conditions as ``POST /data/core/ups/segment/definitions`` takes them.

Sources: Adobe's PQL reference on Experience League (the pages under
https://experienceleague.adobe.com/en/docs/experience-platform/segmentation/pql/, source
``AdobeDocs/experience-platform.en`` ``help/segmentation/pql/*.md``) — most rows use the page's
own example query — and the segment definitions guide for ``pql/json``. PQL runs on typed XDM
profiles, so contexts hold typed JSON values. Decisions segmux records for PQL are in
``docs/dialects/adobe.md`` and ``core/expr/pqljson.py``.
"""

from __future__ import annotations

from typing import Any

from tests.semantics.rows import Refused, Row

PQL = "https://experienceleague.adobe.com/en/docs/experience-platform/segmentation/pql"
COMPARISON = f"{PQL}/comparison-functions"
BOOLEAN = f"{PQL}/boolean-functions"
ARRAY = f"{PQL}/array-functions"
STRING = f"{PQL}/string-functions"
OBJECT = f"{PQL}/object-functions"
QUANT = f"{PQL}/logical-quantifiers"
DATES = f"{PQL}/datetime-functions"
OVERVIEW = f"{PQL}/overview"
GUIDE = (
    "https://experienceleague.adobe.com/en/docs/experience-platform/segmentation/api/"
    "segment-definitions"
)
SHEET = "docs/dialects/adobe.md"
NULL_FALSE = f'{SHEET} "Comparisons involving null are false"'


def A(
    row_id: str, pql: str, context: dict[str, Any], expected: bool, cite: str, note: str = ""
) -> Row:
    return Row(f"a-{row_id}", "adobe", pql, context, expected, cite, note)


def J(row_id: str, pql_json: str, context: dict[str, Any], expected: bool, cite: str) -> Row:
    """A ``pql/json`` definition (the value is JSON text inside the string, as documented)."""
    return Row(
        f"a-{row_id}", "adobe", pql_json, context, expected, cite, extra={"format": "pql/json"}
    )


def home(country: str) -> dict[str, Any]:
    return {"homeAddress": {"countryISO": country}}


def person(**fields: Any) -> dict[str, Any]:
    return {"person": fields}


# The guide's documented conversion of `workAddress.country = "US"`.
DOC_PQL_JSON = (
    '{"nodeType":"fnApply","fnName":"=","params":[{"nodeType":"fieldLookup",'
    '"fieldName":"country","object":{"nodeType":"fieldLookup","fieldName":"workAddress",'
    '"object":{"nodeType":"parameterReference","position":1}}},{"nodeType":"literal",'
    '"literalType":"String","value":"US"}]}'
)

ROWS = [
    # Comparison functions (each page example)
    A("eq", 'homeAddress.countryISO = "CA"', home("CA"), True, f"{COMPARISON} Equals example"),
    A("eq-other", 'homeAddress.countryISO = "CA"', home("US"), False, f"{COMPARISON} Equals"),
    A(
        "eq-case",
        'homeAddress.countryISO = "CA"',
        home("ca"),
        False,
        f"{COMPARISON} Equals (string equality is exact)",
    ),
    A("ne", 'homeAddress.countryISO != "CA"', home("US"), True, f"{COMPARISON} Not equal example"),
    A("ne-equal", 'homeAddress.countryISO != "CA"', home("CA"), False, f"{COMPARISON} Not equal"),
    A(
        "ne-missing",
        'homeAddress.countryISO != "CA"',
        {},
        False,
        f"{COMPARISON} Not equal; {NULL_FALSE}",
    ),
    A(
        "gt",
        "person.birthMonth > 2",
        person(birthMonth=3),
        True,
        f"{COMPARISON} Greater than example",
    ),
    A(
        "gt-equal",
        "person.birthMonth > 2",
        person(birthMonth=2),
        False,
        f"{COMPARISON} Greater than",
    ),
    A(
        "ge",
        "person.birthMonth >= 3",
        person(birthMonth=3),
        True,
        f"{COMPARISON} Greater than or equal to example",
    ),
    A("lt", "person.birthMonth < 2", person(birthMonth=1), True, f"{COMPARISON} Less than example"),
    A("lt-equal", "person.birthMonth < 2", person(birthMonth=2), False, f"{COMPARISON} Less than"),
    A(
        "le",
        "person.birthMonth <= 2",
        person(birthMonth=2),
        True,
        f"{COMPARISON} Less than or equal to example",
    ),
    A(
        "gt-missing",
        "person.birthMonth > 2",
        person(),
        False,
        f"{COMPARISON} Greater than; {NULL_FALSE}",
    ),
    A(
        "eq-double",
        "person.score = 3.5",
        person(score=3.5),
        True,
        f"{OVERVIEW} PQL literals: Double",
    ),
    A(
        "eq-boolean",
        "person.isMember = true",
        person(isMember=True),
        True,
        f"{OVERVIEW} PQL literals: Boolean",
    ),
    A(
        "eq-boolean-false",
        "person.isMember = true",
        person(isMember=False),
        False,
        f"{OVERVIEW} PQL literals: Boolean",
    ),
    # Boolean functions
    A(
        "and",
        'homeAddress.countryISO = "CA" and person.birthYear = 1985',
        {**home("CA"), **person(birthYear=1985)},
        True,
        f"{BOOLEAN} And example",
    ),
    A(
        "and-one",
        'homeAddress.countryISO = "CA" and person.birthYear = 1985',
        {**home("CA"), **person(birthYear=1990)},
        False,
        f"{BOOLEAN} And",
    ),
    A(
        "or",
        'homeAddress.countryISO = "CA" or person.birthYear = 1985',
        {**home("US"), **person(birthYear=1985)},
        True,
        f"{BOOLEAN} Or example",
    ),
    A(
        "or-none",
        'homeAddress.countryISO = "CA" or person.birthYear = 1985',
        {**home("US"), **person(birthYear=1990)},
        False,
        f"{BOOLEAN} Or",
    ),
    A("not", 'not (homeAddress.countryISO = "CA")', home("US"), True, f"{BOOLEAN} Not example"),
    A("not-match", 'not (homeAddress.countryISO = "CA")', home("CA"), False, f"{BOOLEAN} Not"),
    A(
        "not-missing",
        'not (homeAddress.countryISO = "CA")',
        {},
        True,
        f"{BOOLEAN} Not of a comparison that is false ({NULL_FALSE}; `not` is logical negation)",
    ),
    A(
        "bang",
        '!(homeAddress.countryISO = "CA")',
        home("CA"),
        False,
        f'{BOOLEAN} Not: "The not (or !) function"',
    ),
    # Array functions: in / notIn
    A("in", "person.birthMonth in [3, 6, 9]", person(birthMonth=6), True, f"{ARRAY} In example"),
    A("in-miss", "person.birthMonth in [3, 6, 9]", person(birthMonth=7), False, f"{ARRAY} In"),
    A(
        "in-strings",
        'homeAddress.countryISO in ["US", "CA"]',
        home("CA"),
        True,
        f'{OVERVIEW} PQL literals: Array ["US", "CA"]; {ARRAY} In',
    ),
    A(
        "notin",
        "person.birthMonth notIn [3, 6, 9]",
        person(birthMonth=7),
        True,
        f"{ARRAY} Not in example",
    ),
    A(
        "notin-member",
        "person.birthMonth notIn [3, 6, 9]",
        person(birthMonth=6),
        False,
        f"{ARRAY} Not in",
    ),
    A(
        "notin-null",
        "person.birthMonth notIn [3, 6, 9]",
        person(),
        False,
        f'{ARRAY} Not in: "The notIn function also ensures that neither value is equal to '
        'null. Therefore, the results are not an exact negation of the in function."',
    ),
    A(
        "not-in-null",
        "not (person.birthMonth in [3, 6, 9])",
        person(),
        True,
        f"{ARRAY} Not in note (the negation of in, unlike notIn, is true for null)",
    ),
    # Array functions: intersects, intersection, subsetOf, supersetOf, includes, distinct
    A(
        "intersects",
        'person.favoriteColors.intersects(["red", "blue", "green"])',
        person(favoriteColors=["yellow", "blue"]),
        True,
        f'{ARRAY} Intersects example: "at least one common member"',
    ),
    A(
        "intersects-none",
        'person.favoriteColors.intersects(["red", "blue", "green"])',
        person(favoriteColors=["yellow", "black"]),
        False,
        f"{ARRAY} Intersects",
    ),
    A(
        "intersection",
        'person.favoriteColors.intersection(["red", "blue", "green"]) = ["red", "blue"]',
        person(favoriteColors=["blue", "yellow", "red"]),
        True,
        f'{ARRAY} Intersection: "the common members of two arrays" (a literal second list)',
        note=f'{SHEET} "Array functions": lists compared as sets',
    ),
    A(
        "intersection-more",
        'person.favoriteColors.intersection(["red", "blue", "green"]) = ["red", "blue"]',
        person(favoriteColors=["blue", "green", "red"]),
        False,
        f"{ARRAY} Intersection (green is common too)",
    ),
    A(
        "subsetof",
        'person.favoriteCities.subsetOf(["Paris", "Rome", "Oslo"])',
        person(favoriteCities=["Rome", "Paris"]),
        True,
        f'{ARRAY} Subset of: "all elements in array A are elements of array B" (a literal array B)',
    ),
    A(
        "subsetof-not",
        'person.favoriteCities.subsetOf(["Paris", "Rome", "Oslo"])',
        person(favoriteCities=["Rome", "Lima"]),
        False,
        f"{ARRAY} Subset of",
    ),
    A(
        "supersetof",
        'person.eatenFoods.supersetOf(["sushi", "pizza"])',
        person(eatenFoods=["pizza", "ramen", "sushi"]),
        True,
        f'{ARRAY} Superset of example: "people who have eaten sushi and pizza at least once"',
    ),
    A(
        "supersetof-not",
        'person.eatenFoods.supersetOf(["sushi", "pizza"])',
        person(eatenFoods=["pizza"]),
        False,
        f"{ARRAY} Superset of",
    ),
    A(
        "includes",
        'person.favoriteColors.includes("red")',
        person(favoriteColors=["blue", "red"]),
        True,
        f'{ARRAY} Includes example: "people whose favorite color includes red"',
    ),
    A(
        "includes-not",
        'person.favoriteColors.includes("red")',
        person(favoriteColors=["blue"]),
        False,
        f"{ARRAY} Includes",
    ),
    A(
        "distinct",
        "person.orders.storeId.distinct().count() > 1",
        person(orders=[{"storeId": "s1"}, {"storeId": "s2"}, {"storeId": "s1"}]),
        True,
        f'{ARRAY} Distinct example: "people who have placed orders in more than one store"',
    ),
    A(
        "distinct-one-store",
        "person.orders.storeId.distinct().count() > 1",
        person(orders=[{"storeId": "s1"}, {"storeId": "s1"}]),
        False,
        f"{ARRAY} Distinct (duplicates removed before counting)",
    ),
    # Date and time functions that need no clock
    A(
        "getmonth",
        "person.birthdate.getMonth() = 6",
        person(birthdate="1990-06-14"),
        True,
        f'{DATES} Get month example: "the person\'s birth month is in June"',
    ),
    A(
        "getmonth-other",
        "person.birthdate.getMonth() = 6",
        person(birthdate="1990-07-14"),
        False,
        f"{DATES} Get month",
    ),
    A(
        "getyear-in",
        "person.birthday.getYear() in [1991, 1992, 1993, 1994, 1995]",
        person(birthday="1993-05-01"),
        True,
        f"{DATES} Get year example (birth year 1991 to 1995)",
    ),
    A(
        "getyear-out",
        "person.birthday.getYear() in [1991, 1992, 1993, 1994, 1995]",
        person(birthday="1990-05-01"),
        False,
        f"{DATES} Get year",
    ),
    A(
        "getday",
        "product.sale.getDayOfMonth() <= 15",
        {"product": {"sale": "2020-03-15T10:00:00Z"}},
        True,
        f'{DATES} Get day of month example: "sold within the first 15 days of the month"',
    ),
    A(
        "getday-late",
        "product.sale.getDayOfMonth() <= 15",
        {"product": {"sale": "2020-03-16T10:00:00Z"}},
        False,
        f"{DATES} Get day of month",
        note=f'{SHEET} "Date functions": the UTC calendar day',
    ),
    A(
        "occurs-between",
        "product.saleDate occurs between date(2015, 1, 8) and date(2017, 7, 1)",
        {"product": {"saleDate": "2016-02-29T12:00:00Z"}},
        True,
        f"{DATES} Occurs example (between January 8th, 2015 and July 1st, 2017)",
    ),
    A(
        "occurs-between-last-day",
        "product.saleDate occurs between date(2015, 1, 8) and date(2017, 7, 1)",
        {"product": {"saleDate": "2017-07-01T20:00:00Z"}},
        True,
        f"{DATES} Occurs",
        note=f'{SHEET} "Date functions": both days included',
    ),
    A(
        "occurs-between-after",
        "product.saleDate occurs between date(2015, 1, 8) and date(2017, 7, 1)",
        {"product": {"saleDate": "2017-07-02T00:00:00Z"}},
        False,
        f"{DATES} Occurs",
    ),
    A(
        "occurs-on",
        "product.saleDate occurs on date(2019, 12, 31)",
        {"product": {"saleDate": "2019-12-31T08:00:00Z"}},
        True,
        f'{DATES} Occurs note: "timestamp occurs on date(2019,12,31)"',
    ),
    # Arithmetic: the remainder
    A(
        "modulo",
        "person.age % 5 = 0",
        person(age=35),
        True,
        f'{PQL}/arithmetic-functions Remainder example: "the person\'s age is divisible by five"',
    ),
    A(
        "modulo-not",
        "person.age % 5 = 0",
        person(age=36),
        False,
        f"{PQL}/arithmetic-functions Remainder",
    ),
    # Arithmetic: + - * / in a comparison (the page's examples are values; compared here)
    A(
        "add",
        "product1.price + product2.price > 100",
        {"product1": {"price": 60}, "product2": {"price": 50}},
        True,
        f"{PQL}/arithmetic-functions Add example: product1.price + product2.price (compared)",
    ),
    A(
        "multiply",
        "product.inventory * product.price >= 1000",
        {"product": {"inventory": 20, "price": 49.5}},
        False,
        f"{PQL}/arithmetic-functions Multiply example: product.inventory * product.price",
    ),
    A(
        "subtract",
        "product1.price - product2.price < 0",
        {"product1": {"price": 10}, "product2": {"price": 12.5}},
        True,
        f"{PQL}/arithmetic-functions Subtract example: product1.price - product2.price",
    ),
    A(
        "divide",
        "totalProduct.price / totalProduct.sold = 2.5",
        {"totalProduct": {"price": 25, "sold": 10}},
        True,
        f"{PQL}/arithmetic-functions Divide example: totalProduct.price / totalProduct.sold",
    ),
    A(
        "divide-by-zero",
        "totalProduct.price / totalProduct.sold = 2.5",
        {"totalProduct": {"price": 25, "sold": 0}},
        False,
        f"{PQL}/arithmetic-functions Divide; {SHEET} (division by zero has no result)",
    ),
    # Time relative to now: the suite's clock is 2024-01-02T03:04:05Z (tests/conftest.py)
    A(
        "current-month",
        "person.birthMonth = currentMonth()",
        person(birthMonth=1),
        True,
        f"{DATES} Current month example",
    ),
    A(
        "current-year",
        "product.saleYear = currentYear()",
        {"product": {"saleYear": 2023}},
        False,
        f"{DATES} Current year example",
    ),
    A(
        "current-day",
        "person.birthDay = currentDayOfMonth()",
        person(birthDay=2),
        True,
        f"{DATES} Current day of month example",
    ),
    A(
        "occurs-last-week",
        "product.saleDate occurs last week",
        {"product": {"saleDate": "2023-12-27T10:00:00Z"}},
        True,
        f"{DATES} Occurs example; {SHEET} (weeks start on Monday, UTC)",
    ),
    A(
        "occurs-last-week-not",
        "product.saleDate occurs last week",
        {"product": {"saleDate": "2024-01-01T10:00:00Z"}},
        False,
        f"{DATES} Occurs example",
    ),
    A(
        "now",
        "product.saleDate occurs = 3 hours before now",
        {"product": {"saleDate": "2024-01-02T00:30:00Z"}},
        True,
        f"{DATES} Now example; {SHEET} (the clock hour three hours back)",
    ),
    A(
        "today",
        "person.birthday occurs = 3 days before today",
        person(birthday="2023-12-30T23:00:00Z"),
        True,
        f"{DATES} Today example",
    ),
    A(
        "today-not",
        "person.birthday occurs = 3 days before today",
        person(birthday="2023-12-31T00:00:00Z"),
        False,
        f"{DATES} Today example",
    ),
    # String functions
    A("like", 'city like "%es%"', {"city": "Los Angeles"}, True, f"{STRING} Like example"),
    A("like-miss", 'city like "%es%"', {"city": "Paris"}, False, f"{STRING} Like"),
    A(
        "like-underscore",
        'code like "A_C"',
        {"code": "ABC"},
        True,
        f'{STRING} Like: "_ is used to represent exactly one character"',
    ),
    A(
        "like-underscore-two",
        'code like "A_C"',
        {"code": "ABBC"},
        False,
        f'{STRING} Like: "_ ... exactly one character"',
    ),
    A(
        "like-whole",
        'city like "es"',
        {"city": "Los Angeles"},
        False,
        f"{STRING} Like (the pattern matches the whole string; % stands for the rest)",
    ),
    A(
        "starts",
        'person.name.startsWith("Joe")',
        person(name="Joe Smith"),
        True,
        f"{STRING} Starts with example",
    ),
    A(
        "starts-case",
        'person.name.startsWith("Joe")',
        person(name="joe smith"),
        False,
        f'{STRING} Starts with: case sensitive "By default, this is set to true"',
    ),
    A(
        "starts-ci",
        'person.name.startsWith("joe", false)',
        person(name="Joe Smith"),
        True,
        f'{STRING} Starts with: the optional {{BOOLEAN}} "to determine if the check is case '
        'sensitive"',
    ),
    A(
        "not-starts",
        'person.name.doesNotStartWith("Joe")',
        person(name="Jim"),
        True,
        f"{STRING} Does not start with example",
    ),
    A(
        "not-starts-match",
        'person.name.doesNotStartWith("Joe")',
        person(name="Joey"),
        False,
        f"{STRING} Does not start with",
    ),
    A(
        "not-starts-missing",
        'person.name.doesNotStartWith("Joe")',
        person(),
        False,
        f"{STRING} Does not start with",
        note="PQL string tests are false on a missing or null "
        "attribute, the doesNot* functions too, like notIn (core/expr/pqljson.py docstring)",
    ),
    A(
        "ends",
        'person.emailAddress.endsWith(".com")',
        person(emailAddress="a@b.com"),
        True,
        f"{STRING} Ends with example",
    ),
    A(
        "ends-miss",
        'person.emailAddress.endsWith(".com")',
        person(emailAddress="a@b.org"),
        False,
        f"{STRING} Ends with",
    ),
    A(
        "not-ends",
        'person.emailAddress.doesNotEndWith(".com")',
        person(emailAddress="a@b.org"),
        True,
        f"{STRING} Does not end with example",
    ),
    A(
        "contains",
        'person.emailAddress.contains("2010@gm")',
        person(emailAddress="jane2010@gmail.com"),
        True,
        f"{STRING} Contains example",
    ),
    A(
        "contains-case",
        'person.emailAddress.contains("2010@gm")',
        person(emailAddress="JANE2010@GMAIL.COM"),
        False,
        f"{STRING} Contains: case sensitive by default",
    ),
    A(
        "contains-ci",
        'person.emailAddress.contains("2010@gm", false)',
        person(emailAddress="JANE2010@GMAIL.COM"),
        True,
        f"{STRING} Contains with the case-sensitivity flag false",
    ),
    A(
        "not-contains",
        'person.emailAddress.doesNotContain("2010@gm")',
        person(emailAddress="jane@example.com"),
        True,
        f"{STRING} Does not contain example",
    ),
    A(
        "not-contains-match",
        'person.emailAddress.doesNotContain("2010@gm")',
        person(emailAddress="jane2010@gmail.com"),
        False,
        f"{STRING} Does not contain",
    ),
    A(
        "equals",
        'person.name.equals("John")',
        person(name="John"),
        True,
        f'{STRING} Equals example ("with case sensitivity")',
    ),
    A(
        "equals-case",
        'person.name.equals("John")',
        person(name="john"),
        False,
        f'{STRING} Equals: "with case sensitivity"',
    ),
    A(
        "not-equal-to",
        'person.name.notEqualTo("John")',
        person(name="Jim"),
        True,
        f"{STRING} Not equal to example",
    ),
    A(
        "not-equal-to-same",
        'person.name.notEqualTo("John")',
        person(name="John"),
        False,
        f"{STRING} Not equal to",
    ),
    A(
        "matches",
        'person.name.matches("(?i)^John")',
        person(name="johnny"),
        True,
        f"{STRING} Matches example: \"determines, without being case sensitive, if the person's "
        'name starts with John"',
    ),
    A(
        "matches-not-start",
        'person.name.matches("(?i)^John")',
        person(name="Big John"),
        False,
        f"{STRING} Matches example (^ anchors at the start)",
    ),
    A(
        "like-case",
        'city like "%ES%"',
        {"city": "Los Angeles"},
        False,
        f"{STRING} Like (no case-insensitive flag: the pattern is case-sensitive)",
    ),
    A(
        "matches-search",
        'person.name.matches("ohn")',
        person(name="John"),
        True,
        f"{STRING} Matches",
        note="segmux searches the pattern (Java find), reading the documented "
        'example `matches("(?i)^John")` = "starts with John" (core/expr/pqljson.py '
        "docstring); a whole-string match would need the ^ the example writes",
    ),
    A(
        "in-case",
        'homeAddress.countryISO in ["US", "CA"]',
        home("ca"),
        False,
        f"{ARRAY} In (membership is equality, case-sensitive for strings)",
    ),
    # Object functions
    A(
        "is-null-missing",
        "person.homeAddress.isNull()",
        person(),
        True,
        f'{OBJECT} Is null: "determines if an object reference does not exist"',
    ),
    A(
        "is-null-present",
        "person.homeAddress.isNull()",
        person(homeAddress={"city": "Oslo"}),
        False,
        f"{OBJECT} Is null example",
    ),
    A(
        "is-null-json-null",
        "person.homeAddress.isNull()",
        person(homeAddress=None),
        True,
        f"{OBJECT} Is null (a JSON null is no reference)",
    ),
    A(
        "is-not-null",
        "person.homeAddress.isNotNull()",
        person(homeAddress={"city": "Oslo"}),
        True,
        f"{OBJECT} Is not null example",
    ),
    A(
        "is-not-null-missing",
        "person.homeAddress.isNotNull()",
        person(),
        False,
        f'{OBJECT} Is not null: "determines if an object reference exists"',
    ),
    # Literals and references (overview)
    A(
        "date-ge",
        "person.birthDate >= date(2020, 3, 14)",
        person(birthDate="2020-03-14"),
        True,
        f"{OVERVIEW} PQL literals: Date `date(2020, 3, 14)`",
    ),
    A(
        "date-lt",
        "person.birthDate >= date(2020, 3, 14)",
        person(birthDate="2020-03-13"),
        False,
        f"{OVERVIEW} PQL literals: Date",
    ),
    A(
        "explicit-param",
        '$1.homeAddress.countryISO = "CA"',
        home("CA"),
        True,
        f'{OVERVIEW} "Explicit reference to the first parameter"',
    ),
    A(
        "lambda",
        '(Profile) => Profile.homeAddress.countryISO = "CA"',
        home("CA"),
        True,
        f'{OVERVIEW} "Usage of named variables, using the lambda notation"',
    ),
    # Logical quantifiers over an attribute array (the docs' `I from E.productListItems` part)
    A(
        "exists",
        'exists I from productListItems where I.SKU = "PS"',
        {"productListItems": [{"SKU": "X"}, {"SKU": "PS"}]},
        True,
        f'{QUANT} Exists: "determines the existence of an item in an array, provided it '
        'satisfies the provided condition"',
    ),
    A(
        "exists-none",
        'exists I from productListItems where I.SKU = "PS"',
        {"productListItems": [{"SKU": "X"}]},
        False,
        f"{QUANT} Exists",
    ),
    A(
        "forall",
        'forall I from productListItems where I.SKU = "PS"',
        {"productListItems": [{"SKU": "PS"}, {"SKU": "PS"}]},
        True,
        f'{QUANT} For all: "all items in an array that satisfy all the given conditions"',
    ),
    A(
        "forall-one-fails",
        'forall I from productListItems where I.SKU = "PS"',
        {"productListItems": [{"SKU": "PS"}, {"SKU": "X"}]},
        False,
        f"{QUANT} For all",
    ),
    # pql/json: the guide's documented conversion
    J(
        "pqljson-doc",
        DOC_PQL_JSON,
        {"workAddress": {"country": "US"}},
        True,
        f'{GUIDE} (convert a segment definition: pql/text `workAddress.country = "US"` ⇄ pql/json)',
    ),
    J(
        "pqljson-doc-other",
        DOC_PQL_JSON,
        {"workAddress": {"country": "CA"}},
        False,
        f"{GUIDE} (the same pql/json definition)",
    ),
]

MAPS = f"{PQL}/map-functions"
ARITHMETIC = f"{PQL}/arithmetic-functions"


def R(row_id: str, pql: str, cite: str, construct: str) -> Refused:
    """A documented example segmux refuses: a 400 whose message names ``construct``."""
    return Refused(f"a-refused-{row_id}", "adobe", pql, cite, construct)


REFUSED = [
    R("intersection-attrs",
      'person1.favoriteColors.intersection(person2.favoriteColors) = ["red", "blue", "green"]',
      f"{ARRAY} Intersection example", "intersection() of two attributes"),
    R("subsetof-attrs", "person.favoriteCities.subsetOf(person.visitedCities)",
      f"{ARRAY} Subset of example", "subsetOf() of another attribute"),
    R("filter", "person.filter(age >= 21)", f"{ARRAY} Filter example", ".filter()"),
    R("topn-head", "orders.topN(price, 5).head()", f"{ARRAY} First item example", ".topN()"),
    R("map-get-value", 'identityMap.get("example@example.com")', f"{MAPS} Get example",
      "not a condition"),
    R("map-keys", "identityMap.keys()", f"{MAPS} Keys example", ".keys()"),
]  # fmt: skip
