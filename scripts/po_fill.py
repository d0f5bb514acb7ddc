"""Fill or add entries of a .po catalogue from a JSON mapping and compile it.

    python scripts/po_fill.py path/to/django.po mapping.json

The mapping is {msgid: translation}; a key "context\x04msgid" (as gettext stores it) names a
pgettext entry. Keys not yet in the catalogue are added, so a branch can add its own words
without running makemessages over the whole tree.

Developers' helper for keeping the committed zh_Hans catalogues complete; it lists what is still
missing so nothing ships in English by accident.
"""

import json
import sys

import polib


def main(po_path: str, mapping_path: str | None = None) -> int:
    po = polib.pofile(po_path)
    mapping = {}
    if mapping_path:
        with open(mapping_path, encoding="utf-8") as fh:
            mapping = json.load(fh)
    seen = set()
    for entry in po:
        key = f"{entry.msgctxt}\x04{entry.msgid}" if entry.msgctxt else entry.msgid
        if key in mapping:
            seen.add(key)
            value = mapping[key]
            if entry.msgid_plural:
                entry.msgstr_plural = {0: value}
            else:
                entry.msgstr = value
            if "fuzzy" in entry.flags:
                entry.flags.remove("fuzzy")
    for key, value in mapping.items():
        if key in seen:
            continue
        context, _, msgid = key.rpartition("\x04")
        po.append(polib.POEntry(msgctxt=context or None, msgid=msgid, msgstr=value))
    po.metadata["Language"] = "zh_Hans"
    po.metadata["Plural-Forms"] = "nplurals=1; plural=0;"
    po.metadata["Content-Type"] = "text/plain; charset=UTF-8"
    po.save(po_path)
    po.save_as_mofile(po_path[:-3] + ".mo")
    missing = [
        e.msgid
        for e in po
        if not e.obsolete and not (e.msgstr or (e.msgstr_plural and e.msgstr_plural.get(0)))
    ]
    for msgid in missing:
        print(f"untranslated: {msgid!r}")
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
