"""The masker hides a secret in the forms it is printed in, and leaves short values alone."""
from __future__ import annotations

import base64
import json
import urllib.parse

from chalicelib.secrets_mask import MASK, Masker

PEM = ("-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7\n"
       "VJTUt9Us8cKjMzEfYyjiWA4R4/M2bS1GB4t7NXp98C3SC6dVMvDuictGeurT8jNb\n-----END PRIVATE KEY-----\n")


def test_a_multi_line_secret_is_masked_line_by_line_and_in_its_encodings():
    mask = Masker([PEM, "abc"])
    for line in PEM.splitlines():  # printed one log line at a time
        assert MASK in mask(f"key: {line}") and line not in mask(f"key: {line}")
    raw = PEM.encode()
    for form in (json.dumps(PEM)[1:-1], base64.b64encode(raw).decode(), base64.urlsafe_b64encode(raw).decode(),
                 base64.b64encode(raw).decode().rstrip("="), urllib.parse.quote(PEM, safe=""),
                 urllib.parse.quote_plus(PEM)):
        assert mask(f'{{"key": "{form}"}}') == f'{{"key": "{MASK}"}}', form
    assert mask("abc and abcdef") == "abc and abcdef", "values shorter than 4 characters are not masked"


def test_the_longest_form_wins_so_nothing_of_a_value_is_left():
    mask = Masker(["secret-value", "secret-value-longer"])
    assert mask("x=secret-value-longer y=secret-value") == f"x={MASK} y={MASK}"


def test_credentials_it_was_never_given_are_masked_by_their_shape():
    mask = Masker(())
    installation = "ghs_" + "A1b2C3d4E5" * 4  # minted for one clone, unknown to the log's masker
    assert mask(f"fatal: could not read https://x-access-token:{installation}@github.com/o/r.git") == \
        f"fatal: could not read https://{MASK}@github.com/o/r.git"
    assert mask(f"token {installation} and github_pat_{'x9' * 20}") == f"token {MASK} and {MASK}"
    assert mask("https://github.com/o/r.git and ghost_town and gh_pages") == \
        "https://github.com/o/r.git and ghost_town and gh_pages", "ordinary text is left alone"
    assert mask("postgres://app:s3cret@db:5432/x") == f"postgres://{MASK}@db:5432/x"
