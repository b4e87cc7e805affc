"""Program variables and their C types from an ELF's DWARF debug information (pyelftools):
what a µVision expression such as ``buf[3]``, ``cfg.gain`` or ``p->next->value`` needs to find
an address and read it with the right width.

Only statically allocated variables have an address to give (``DW_AT_location`` holding one
``DW_OP_addr``, DWARF 5 section 2.6.1.1.1); locals and registers are the running frame's,
which a set-up script cannot name. Types follow DWARF 5 chapter 5: base types with their
encoding, pointers, arrays (``DW_TAG_subrange_type`` bounds), structures and unions with
member offsets, enumerations; typedefs and cv-qualifiers are looked through.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from elftools.elf.elffile import ELFFile

#: DWARF base type encodings (DWARF 5 table 5.2) that hold floating-point values.
_FLOAT_ENCODINGS = {0x04}  # DW_ATE_float
#: ... and signed integers (DW_ATE_signed, DW_ATE_signed_char).
_SIGNED_ENCODINGS = {0x05, 0x06}
#: DW_OP_addr: the location is this constant address.
_DW_OP_ADDR = 0x03
#: Tags that only qualify or rename the type they point at.
_SEE_THROUGH = {"DW_TAG_typedef", "DW_TAG_const_type", "DW_TAG_volatile_type",
                "DW_TAG_restrict_type", "DW_TAG_atomic_type"}


@dataclass
class CType:
    """A C type as a debugger reads it.

    Attributes:
        kind: "int", "float", "pointer", "array", "struct" (unions too), "enum", "void"
        size: bytes (an array's whole length; 0 for void and incomplete types)
        name: as the program spells it
        signed: integers: signed or not
        target: pointers and arrays: the type pointed at or of each element
        count: arrays: elements of the first dimension (None: unknown)
        members: structs: member name -> (byte offset, type)
    """

    kind: str
    size: int
    name: str = ""
    signed: bool = False
    target: "CType | None" = None
    count: int | None = None
    members: dict[str, tuple[int, "CType"]] = field(default_factory=dict)


VOID = CType("void", 0, "void")


class DebugInfo:
    """The static variables of one ELF with their types (empty without DWARF)."""

    def __init__(self, path: Path) -> None:
        self.variables: dict[str, tuple[int, CType]] = {}
        self._types: dict[int, CType] = {}
        try:
            with path.open("rb") as fh:
                ef = ELFFile(fh)
                if not ef.has_dwarf_info():
                    return
                for cu in ef.get_dwarf_info().iter_CUs():
                    self._read_cu(cu)
        except Exception:  # debug info is optional: no types rather than a failed script
            self.variables.clear()

    def _read_cu(self, cu: Any) -> None:
        for die in cu.iter_DIEs():
            if die.tag != "DW_TAG_variable" or "DW_AT_location" not in die.attributes:
                continue
            address = _static_address(die.attributes["DW_AT_location"].value)
            if address is None:
                continue
            decl = die
            if "DW_AT_specification" in die.attributes:  # a definition of a declaration
                decl = die.get_DIE_from_attribute("DW_AT_specification")
            name_attr = decl.attributes.get("DW_AT_name")
            if name_attr is None or "DW_AT_type" not in decl.attributes:
                continue
            name = name_attr.value.decode(errors="replace")
            self.variables.setdefault(name, (address, self._type(
                decl.get_DIE_from_attribute("DW_AT_type"))))

    def _type(self, die: Any, depth: int = 0) -> CType:
        """The CType of a type DIE (memoised by offset, so self-referring structs end)."""
        known = self._types.get(die.offset)
        if known is not None:
            return known
        if depth > 64:
            return VOID
        tag, at = die.tag, die.attributes
        name = at["DW_AT_name"].value.decode(errors="replace") if "DW_AT_name" in at else ""
        size = at["DW_AT_byte_size"].value if "DW_AT_byte_size" in at else 0
        inner = (lambda: self._type(die.get_DIE_from_attribute("DW_AT_type"), depth + 1)) \
            if "DW_AT_type" in at else (lambda: VOID)
        if tag in _SEE_THROUGH:
            t = inner()
            self._types[die.offset] = t
            return t
        if tag == "DW_TAG_base_type":
            enc = at["DW_AT_encoding"].value if "DW_AT_encoding" in at else 0
            t = CType("float" if enc in _FLOAT_ENCODINGS else "int", size, name,
                      signed=enc in _SIGNED_ENCODINGS)
        elif tag == "DW_TAG_pointer_type":
            t = CType("pointer", size or 4, name)
            self._types[die.offset] = t  # before its target: a struct may point at itself
            t.target = inner()
            t.name = t.name or f"{t.target.name} *"
            return t
        elif tag == "DW_TAG_array_type":
            elem = inner()
            dims = [c for c in die.iter_children() if c.tag == "DW_TAG_subrange_type"]
            counts = [_count(d) for d in dims] or [None]
            t = elem
            for k in range(len(counts) - 1, -1, -1):  # int a[2][3]: 2 arrays of 3
                dims = "".join(f"[{'' if n is None else n}]" for n in counts[k:])
                t = CType("array", (counts[k] or 0) * t.size, f"{elem.name}{dims}",
                          target=t, count=counts[k])
        elif tag in ("DW_TAG_structure_type", "DW_TAG_union_type", "DW_TAG_class_type"):
            t = CType("struct", size, name or "(anonymous)")
            self._types[die.offset] = t
            for m in die.iter_children():
                if m.tag != "DW_TAG_member" or "DW_AT_type" not in m.attributes:
                    continue
                loc = m.attributes.get("DW_AT_data_member_location")
                offset = loc.value if loc is not None and isinstance(loc.value, int) else 0
                mname = m.attributes["DW_AT_name"].value.decode(errors="replace") \
                    if "DW_AT_name" in m.attributes else ""
                if mname:
                    t.members[mname] = (offset, self._type(
                        m.get_DIE_from_attribute("DW_AT_type"), depth + 1))
            return t
        elif tag == "DW_TAG_enumeration_type":
            t = CType("enum", size or 4, name, signed=True)
        elif tag in ("DW_TAG_subroutine_type",):
            t = CType("void", 0, "function")
        else:
            t = VOID
        self._types[die.offset] = t
        return t


def _static_address(loc: Any) -> int | None:
    """The address of a ``DW_OP_addr a`` location expression (4-byte address), else None."""
    if isinstance(loc, list) and len(loc) == 5 and loc[0] == _DW_OP_ADDR:
        return int.from_bytes(bytes(loc[1:]), "little")
    return None


def _count(sub: Any) -> int | None:
    at = sub.attributes
    if "DW_AT_count" in at and isinstance(at["DW_AT_count"].value, int):
        return int(at["DW_AT_count"].value)
    if "DW_AT_upper_bound" in at and isinstance(at["DW_AT_upper_bound"].value, int):
        lower = at["DW_AT_lower_bound"].value if "DW_AT_lower_bound" in at else 0
        return int(at["DW_AT_upper_bound"].value) - int(lower) + 1
    return None
