"""README's Configuration table names every setting the service reads, so that an operator
can find each one: a setting added without a row fails here."""

import re

from service.settings import Settings
from tests.support import ROOT


def test_every_setting_has_a_row_in_the_configuration_table() -> None:
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Configuration", 1)[1].split("\n## ", 1)[0]
    documented = set(re.findall(r"`([A-Z][A-Z0-9_]+)`", section))
    read = {name.upper() for name in Settings.model_fields}
    assert read - documented == set()
