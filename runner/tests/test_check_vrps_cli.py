"""`peerwarden-runner check-vrps FILE`: what the role runs before it replaces a deployed VRP file."""

import json

from peerwarden_runner import cli


def test_a_good_file_is_summarised(tmp_path, capsys):
    path = tmp_path / "vrps.json"
    path.write_text(
        json.dumps(
            {
                "roas": [
                    {"prefix": "192.0.2.0/24", "maxLength": 24, "asn": "AS64500"},
                    {"prefix": "2001:db8::/32", "maxLength": 48, "asn": 64500},
                    {"prefix": "192.0.2.0/24", "maxLength": 24, "asn": 64500},
                    {"prefix": "198.51.100.0/24", "asn": 1, "expires": 1},
                ]
            }
        )
    )
    assert cli.main(["check-vrps", str(path)]) == 0
    assert capsys.readouterr().out == "%s: ok (2 VRPs; 4 entries, 1 expired, 1 duplicates)\n" % path


def test_an_empty_roa_list_is_a_valid_file(tmp_path, capsys):
    path = tmp_path / "vrps.json"
    path.write_text('{"roas": []}')
    assert cli.main(["check-vrps", str(path)]) == 0
    assert "ok (0 VRPs; 0 entries" in capsys.readouterr().out


def test_a_broken_file_names_the_entry_and_field(tmp_path, capsys):
    path = tmp_path / "vrps.json"
    path.write_text(json.dumps({"roas": [{"prefix": "192.0.2.0/24", "asn": 1}, {"prefix": "192.0.2.0/33", "asn": 1}]}))
    assert cli.main(["check-vrps", str(path)]) == 2
    error = capsys.readouterr().err
    assert error.startswith("%s: roas[1].prefix: " % path) and "33" in error


def test_not_json_and_missing_files_are_refused(tmp_path, capsys):
    path = tmp_path / "vrps.json"
    path.write_text('{"roas": [')
    assert cli.main(["check-vrps", str(path)]) == 2
    assert "%s: not valid JSON: " % path in capsys.readouterr().err
    assert cli.main(["check-vrps", str(tmp_path / "missing.json")]) == 2
    assert "missing.json: cannot read: No such file or directory" in capsys.readouterr().err
    path.write_text("[]")
    assert cli.main(["check-vrps", str(path)]) == 2
    assert "the top level must be a JSON object" in capsys.readouterr().err
