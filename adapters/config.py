"""What every adapter's configuration section is made of: a pydantic model whose fields are variables.

Each adapter owns its section of the settings (``adapters/<name>/config.py``): a ``Section``
whose fields are read from the variables their ``validation_alias`` names (the parts of a
URL are taken apart by a validator), and whose ``description`` is what a person reads when
the value is wrong (``must be …``). A rule of Herald's own either raises ``wrong()``, to have
that description said, or a ``ValueError`` with its own sentence; a sentence that starts in
lower case is said after the variable's name. ``bot.app.settings`` composes the sections (one
pydantic-settings ``BaseSettings`` reads the environment and ``.env``), hands each adapter
only its own, and words pydantic's errors with ``sentences``, so that nobody reads
"Input should be a valid integer".
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, ClassVar, Self, get_args

from pydantic import BaseModel, BeforeValidator, ConfigDict, GetCoreSchemaHandler, ValidationError
from pydantic.fields import FieldInfo
from pydantic_core import CoreSchema, PydanticCustomError, core_schema


class Secret:
    """A token or secret: usable by the code that needs it, never shown in a repr or a log."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        """The secret itself, for the one call that sends it to the platform."""
        return self._value

    def __repr__(self) -> str:
        return "Secret('***')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)

    @classmethod
    def __get_pydantic_core_schema__(cls, source: type[Any], handler: GetCoreSchemaHandler) -> CoreSchema:
        """A field of this type takes the variable's text; a dump shows ``Secret('***')``, never the secret."""
        return core_schema.no_info_plain_validator_function(_secret, serialization=core_schema.to_string_ser_schema())


def _secret(value: object) -> Secret:
    if isinstance(value, Secret):
        return value
    if isinstance(value, str):
        return Secret(value)
    raise PydanticCustomError("secret_type", "not text")


def wrong() -> PydanticCustomError:
    """The error a rule raises when the field's own ``description`` says what is wrong."""
    return PydanticCustomError("wrong_value", "not what the setting takes")


def _on_off(value: object) -> object:
    if not isinstance(value, str):
        return value
    text = value.lower()
    if text not in ("on", "off"):
        raise ValueError(f"must be on or off (got {text[:10]!r})")
    return text == "on"


def _whole_number(value: object) -> object:
    if isinstance(value, str) and not (value.isascii() and value.isdigit()):
        raise wrong()
    return value


def _ca_file(value: object) -> object:
    if not isinstance(value, str):
        return value
    path = Path(value).expanduser()
    if not path.is_file():
        raise ValueError(f"must name a file of PEM CA certificates ({value[:80]!r} is not a file)")
    return path


Switch = Annotated[bool, BeforeValidator(_on_off)]
"""An ``on``/``off`` setting (nothing else: not ``yes``, not ``1``)."""

WholeNumber = Annotated[int, BeforeValidator(_whole_number)]
"""Digits only: no sign, no ``_``, no ``.0``; the field's bounds and ``description`` say the rest."""

CaFile = Annotated[Path, BeforeValidator(_ca_file)]
"""A file of PEM CA certificates to trust instead of the system's."""


class Section(BaseModel):
    """One adapter's part of the settings: frozen, read from the variables its fields name."""

    model_config = ConfigDict(
        frozen=True,
        extra="ignore",
        arbitrary_types_allowed=True,  # email.headerregistry.Address
        hide_input_in_errors=True,  # a value may be a secret: Herald words the errors itself (see sentences)
    )

    switched_on_by: ClassVar[tuple[str, ...]] = ()
    """Setting any of these variables turns the section on (else it is None); () keeps it always on."""

    reads_also: ClassVar[tuple[str, ...]] = ()
    """Variables a validator reads besides the fields' own (HERALD_LINK_SECRET for the bounce secret)."""

    @classmethod
    def variables(cls) -> frozenset[str]:
        """Every variable this section reads."""
        return frozenset((*variables_of(cls), *cls.switched_on_by, *cls.reads_also))

    @classmethod
    def switched_on(cls, values: Mapping[str, str]) -> bool:
        """Whether ``values`` (every variable set, none blank) turn this section on."""
        return not cls.switched_on_by or any(name in values for name in cls.switched_on_by)

    @classmethod
    def given(cls, values: Mapping[str, str]) -> dict[str, str] | None:
        """This section's own variables among ``values``, for it to validate; None when it is switched off."""
        if not cls.switched_on(values):
            return None
        own = cls.variables()
        return {name: text for name, text in values.items() if name in own}

    @classmethod
    def read(cls, values: Mapping[str, str]) -> Self | None:
        """This section alone from ``values``, for a tool that needs no other (the container's health check).

        Raises:
            ValidationError: worded by ``sentences(error, cls)``.
        """
        given = cls.given(set_values(values))
        return None if given is None else cls.model_validate(given)


def set_values(values: Mapping[str, object]) -> dict[str, str]:
    """The variables that are set, trimmed: a blank one counts as unset, so its field keeps its default."""
    found = {name: value.strip() for name, value in values.items() if isinstance(value, str)}
    return {name: text for name, text in found.items() if text}


def variables_of(model: type[BaseModel]) -> dict[str, FieldInfo]:
    """Each of the model's fields that a variable sets, by the variable's name."""
    fields = model.model_fields.values()
    return {field.validation_alias: field for field in fields if isinstance(field.validation_alias, str)}


def sentences(error: ValidationError, model: type[BaseModel]) -> list[str]:
    """Each of the error's complaints about ``model`` in Herald's words, naming the variable, each once.

    No sentence shows the value of a ``Secret``.
    """
    found: list[str] = []
    for detail in error.errors(include_url=False):
        if detail["type"] == "default_factory_not_called":  # a default that needs a wrong value: said already
            continue
        field = _field_at(model, detail["loc"])
        name = field.validation_alias if field is not None and isinstance(field.validation_alias, str) else ""
        if detail["type"] == "value_error":  # one of Herald's rules, already a sentence
            said = str(detail.get("ctx", {}).get("error", detail["msg"]))
            found.append(f"{name} {said}" if name and said[:1].islower() else said)
        elif field is not None and name and field.description:
            said = f"{name} {field.description}"
            shown = detail["type"] != "missing" and not _holds_secret(field)
            found.append(f"{said} (got {str(detail.get('input', ''))[:40]!r})" if shown else said)
        else:
            found.append(f"{name or 'a setting'}: {detail['msg']}")
    return list(dict.fromkeys(found))


def _field_at(model: type[BaseModel] | None, loc: tuple[int | str, ...]) -> FieldInfo | None:
    """The field ``loc`` points at: each step a field's variable or name, into a section when the field is one."""
    field = None
    for step in loc:
        fields = model.model_fields.items() if model is not None else ()
        field = next((f for name, f in fields if step in (name, f.validation_alias)), None)
        if field is None:
            return None
        kinds = (field.annotation, *get_args(field.annotation))
        model = next((k for k in kinds if isinstance(k, type) and issubclass(k, BaseModel)), None)
    return field


def _holds_secret(field: FieldInfo) -> bool:
    return field.annotation is Secret or Secret in get_args(field.annotation)
