#!/usr/bin/env python3
"""Validates generated outputs against their JSON Schemas with python3-jsonschema, a checker
independent of the engine. Usage: validate_json_outputs.py SCHEMAS.json OUTPUTS.jsonl
SCHEMAS.json maps a name to a schema; each OUTPUTS line is {"schema": NAME, "text": TEXT}.
Prints one line per failure and a summary; exit status 1 when any output fails."""
import json
import sys

import jsonschema
from jsonschema import Draft202012Validator

# The 2020-12 draft's own formats (a bare FormatChecker() mixes in draft 3's "time").
FORMATS = getattr(Draft202012Validator, "FORMAT_CHECKER", None) or jsonschema.draft202012_format_checker


def main():
    schemas = json.load(open(sys.argv[1], encoding="utf-8"))
    validators = {name: Draft202012Validator(s, format_checker=FORMATS) for name, s in schemas.items()}
    for s in schemas.values():
        Draft202012Validator.check_schema(s)
    total = failed = 0
    per_schema = {}
    with open(sys.argv[2], "rb") as f:
        for line in f:
            entry = json.loads(line)
            total += 1
            per_schema[entry["schema"]] = per_schema.get(entry["schema"], 0) + 1
            text = entry["text"]
            try:
                value = json.loads(text)
                validators[entry["schema"]].validate(value)
            except (ValueError, jsonschema.ValidationError) as e:
                failed += 1
                if failed <= 20:
                    print(f"FAIL {entry['schema']}: {str(e).splitlines()[0]} in {text!r}")
    formats = sorted(FORMATS.checkers)
    print(f"validated {total} outputs of {len(per_schema)} schemas: {total - failed} valid, {failed} invalid "
          f"(jsonschema formats checked: {', '.join(formats)})")
    return 1 if failed or total == 0 else 0


if __name__ == "__main__":
    sys.exit(main())
