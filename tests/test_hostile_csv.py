"""Hostile CSV files: every one ends in exit 2 with one line naming file, line and column,
or is accepted with exactly the values it writes. Never a traceback, a hang, or a value
that Spark reads differently from the checker."""

from __future__ import annotations

import os
import random

import numpy as np
import pytest
from hostile_support import (
    ANSWER_WITHIN,
    GOOD,
    HEADER,
    assert_one_line_error,
    run_in_process,
    run_process,
    startup_seconds,
)

from labkit.data import MAX_CSV_BYTES, load_penguins, validate_csv
from labkit.errors import DataError
from labkit.prep import collect, transform

#: name: (file content, fragment of the one error line after "PATH")
REFUSED = {
    "island with a trailing space": (
        f"{HEADER}\n{GOOD}\nBiscoe ,47.5,15.0,217,5080,1\n",
        ":3:1: unknown island 'Biscoe '; expected one of Biscoe, Dream, Torgersen, "
        "spelled exactly; remove the spaces around it"),
    "island in lower case": (f"{HEADER}\nbiscoe,47.5,15.0,217,5080,1\n",
                             ":2:1: unknown island 'biscoe'"),
    "species with a leading space": (f"{HEADER}\nBiscoe,47.5,15.0,217,5080, 1\n",
                                     ":2:27: Species ' 1' is not a species code 0, 1 or 2; "
                                     "remove the spaces"),
    "species 1.0": (f"{HEADER}\nBiscoe,47.5,15.0,217,5080,1.0\n",
                    ":2:27: Species '1.0' is not a species code"),
    "number with an underscore": (f"{HEADER}\nBiscoe,47.5,15.0,217,5_080,1\n",
                                  ":2:22: BodyMass '5_080' is not a number"),
    "full-width digits": (f"{HEADER}\nBiscoe,47.5,15.0,２１７,5080,1\n",
                          ":2:18: FlipperLength '２１７' is not a number"),
    "arabic-indic digits": (f"{HEADER}\nBiscoe,٤٧.٥,15.0,217,5080,1\n",
                            ":2:8: CulmenLength '٤٧.٥' is not a number"),
    "number with a space": (f"{HEADER}\nBiscoe, 47.5,15.0,217,5080,1\n",
                            ":2:8: CulmenLength ' 47.5' is not a number; remove the spaces"),
    "form feed inside a line": (f"{HEADER}\nBiscoe,47.5,15.0,217,5080,1\f\n",
                                ":2:27: Species '1\\x0c' is not a species code"),
    "form feed as a line": (f"{HEADER}\n{GOOD}\n\f\n", ":3: expected 6 fields, found 1"),
    "U+2028 inside a field": (f"{HEADER}\nBiscoe,47.5\u2028,15.0,217,5080,1\n",
                              ":2:8: CulmenLength '47.5\\u2028' is not a number"),
    "U+2028 between rows": (f"{HEADER}\n{GOOD}\u2028{GOOD}\n",
                            ":2: expected 6 fields, found 11"),
    "a bare carriage return between rows": (
        f"{HEADER}\n{GOOD}\r{GOOD}\n",
        ":2:28: a carriage return inside a line; lines end with \\n or \\r\\n"),
    "a NUL byte": (f"{HEADER}\nBiscoe,47.5,15.0,217,5080\0,1\n",
                   ":2:22: BodyMass '5080\\x00' is not a number"),
    "a field over 128 kB": (f"{HEADER}\nBiscoe,{'4' * 140_000},15.0,217,5080,1\n",
                            ":2: not valid CSV (field larger than field limit"),
    "beyond float32": (f"{HEADER}\nBiscoe,47.5,15.0,217,1e39,1\n",
                       ":2:22: BodyMass 1e39 does not fit in float32"),
    "1e308": (f"{HEADER}\nBiscoe,1e308,15.0,217,5080,1\n",
              ":2:8: CulmenLength 1e308 does not fit in float32"),
    "beyond float64": (f"{HEADER}\nBiscoe,47.5,1e400,217,5080,1\n",
                       ":2:13: CulmenDepth 1e400 does not fit in float32"),
    "nan": (f"{HEADER}\nBiscoe,47.5,nan,217,5080,1\n", ":2:13: CulmenDepth 'nan' is not a number"),
    "NA": (f"{HEADER}\nBiscoe,NA,15.0,217,5080,1\n", ":2:8: CulmenLength 'NA' is not a number"),
    "hex float": (f"{HEADER}\nBiscoe,0x2f,15.0,217,5080,1\n", ":2:8: CulmenLength '0x2f' is not"),
    "mass in kilograms": (f"{HEADER}\nBiscoe,47.5,15.0,217,5.08,1\n",
                          ":2:22: BodyMass 5.08 is impossible for these penguins; labkit "
                          "accepts 1000 to 13000 g"),
    "flipper in metres": (f"{HEADER}\nBiscoe,47.5,15.0,0.217,5080,1\n",
                          ":2:18: FlipperLength 0.217 is impossible"),
    "negative zero": (f"{HEADER}\nBiscoe,47.5,-0,217,5080,1\n",
                      ":2:13: CulmenDepth -0 is impossible"),
    "header with a trailing space": (f"{HEADER} \n{GOOD}\n",
                                     ":1:56: unexpected column 'Species '"),
    "header in another order": ("Island,CulmenDepth,CulmenLength,FlipperLength,BodyMass,"
                                f"Species\n{GOOD}\n", ":1: columns must be in the order"),
    "a quote inside a field": (f'{HEADER}\nBis"coe,47.5,15.0,217,5080,1\n',
                               ":2:1: unknown island 'Bis\"coe'"),
    "an unclosed quote": (f'{HEADER}\n"Biscoe,47.5,15.0,217,5080,1\n',
                          ":2: not valid CSV (unexpected end of data)"),
    "a line of spaces": (f"{HEADER}\n{GOOD}\n   \n", ":3: expected 6 fields, found 1"),
    "a trailing comma": (f"{HEADER}\n{GOOD},\n", ":2: expected 6 fields, found 7"),
    "only the header and blank lines": (f"{HEADER}\n\n\n", ": no data rows after the header"),
    "whitespace only": (" \n\t\n", ": the file is empty"),
}


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_refused_with_one_line(capsys, tmp_path, case):
    content, fragment = REFUSED[case]
    path = tmp_path / "hostile.csv"
    path.write_text(content, encoding="utf-8", newline="")
    outcome = run_in_process(capsys, "prep", "--data", str(path))
    line = assert_one_line_error(outcome, f"labkit: error: {path}{fragment}")
    assert outcome.seconds < ANSWER_WITHIN, line


def test_latin1_and_binary_files(capsys, tmp_path):
    latin = tmp_path / "latin1.csv"
    latin.write_bytes(f"{HEADER}\n{GOOD}\n".encode() + "Dr\xe9am,1,1,1,1,1\n".encode("latin-1"))
    assert_one_line_error(run_in_process(capsys, "prep", "--data", str(latin)),
                          f"{latin}:3: the file is not UTF-8 text")
    binary = tmp_path / "random.csv"
    binary.write_bytes(random.Random(0).randbytes(4096))
    assert_one_line_error(run_in_process(capsys, "prep", "--data", str(binary)), str(binary))


def test_a_file_too_large_is_refused_unread(capsys, tmp_path):
    huge = tmp_path / "huge.csv"
    with open(huge, "wb") as stream:  # sparse: costs no disk
        stream.truncate(MAX_CSV_BYTES + 1)
    assert_one_line_error(run_in_process(capsys, "prep", "--data", str(huge)),
                          f"{huge}: is {MAX_CSV_BYTES + 1} bytes, more than the "
                          f"{MAX_CSV_BYTES} bytes a CSV file may have")


def test_a_fifo_a_device_and_a_directory_answer_at_once(tmp_path):
    fifo = tmp_path / "pipe.csv"
    os.mkfifo(fifo)
    baseline = startup_seconds()
    for path, kind in ((fifo, "a FIFO (named pipe)"), ("/dev/zero", "a character device"),
                       (tmp_path, "a directory")):
        outcome = run_process("prep", "--data", str(path), timeout=baseline * 3 + 60)
        assert_one_line_error(outcome, f"{path}: is {kind}, expected a CSV file")
        assert outcome.seconds < baseline * 1.5 + ANSWER_WITHIN


def test_a_symlink_to_a_fifo_is_still_a_fifo(capsys, tmp_path):
    fifo, link = tmp_path / "pipe", tmp_path / "link.csv"
    os.mkfifo(fifo)
    link.symlink_to(fifo)
    assert_one_line_error(run_in_process(capsys, "prep", "--data", str(link)),
                          f"{link}: is a FIFO (named pipe), expected a CSV file")


#: Files that are valid, written in ways a CSV may be written; every one holds these rows.
ROWS = [("Biscoe", 47.5, 15.0, 217.0, 5080.0, 1), ("Dream", 46.5, 17.9, 192.0, 3500.0, 2),
        ("Torgersen", None, None, None, None, 0), ("Torgersen", 39.1, 18.7, 181.0, 3750.0, 0)]
PLAIN = ("Biscoe,47.5,15.0,217,5080,1\nDream,46.5,17.9,192,3500,2\nTorgersen,,,,,0\n"
         "Torgersen,39.1,18.7,181,3750,0\n")
ACCEPTED = {
    "plain": f"{HEADER}\n{PLAIN}",
    "crlf": f"{HEADER}\n{PLAIN}".replace("\n", "\r\n"),
    "byte order mark": f"\ufeff{HEADER}\n{PLAIN}",
    "no final newline": f"{HEADER}\n{PLAIN}".rstrip("\n"),
    "blank lines": f"{HEADER}\n\n{PLAIN}\n\n",
    "quoted fields": f'"Island",{HEADER[7:]}\n' + PLAIN.replace("Dream", '"Dream"'),
    "other ways to write numbers": f"{HEADER}\n" + PLAIN.replace("47.5", "4.75e1")
    .replace("15.0", "+15").replace("217", "217.").replace("3500", "3.5E3"),
}


@pytest.mark.parametrize("case", sorted(ACCEPTED))
def test_accepted_files_give_exactly_their_values(tmp_path, case):
    path = tmp_path / "fine.csv"
    path.write_text(ACCEPTED[case], encoding="utf-8", newline="")
    report = validate_csv(path)
    assert list(report.records) == ROWS
    assert (report.rows, report.complete_rows) == (4, 3)


def test_spark_prepares_exactly_the_checked_values(spark, tmp_path):
    path = tmp_path / "fine.csv"
    path.write_text(ACCEPTED["quoted fields"].replace("\n", "\r\n"), newline="")
    prepared = collect(transform(load_penguins(spark, path)))
    complete = [row for row in ROWS if None not in row]
    islands = {"Biscoe": 0, "Dream": 1, "Torgersen": 2}
    expected = np.array([[islands[i], a, b, f / 10, m / 100] for i, a, b, f, m, _ in complete],
                        dtype=np.float32)
    assert prepared.iloc[:, :5].to_numpy(np.float32).tolist() == expected.tolist()
    assert prepared["Species"].tolist() == [row[5] for row in complete]
    assert prepared["IslandIdx"].min() >= 0


def test_random_rows_round_trip_and_random_damage_is_caught(tmp_path):
    """Rows drawn at random (valid values, random spellings of valid numbers) come back
    exactly; the same rows with one character replaced by a hostile one come back
    exactly or are refused in one line, never with a changed value."""
    generator = random.Random(9)
    hostile = [" ", "\t", "\f", "\v", "\u2028", "\u00a0", "_", "\uff11", "'", "e", "-", "\0",
               ";", "\u200b", "\r"]
    islands = ["Biscoe", "Dream", "Torgersen"]
    for trial in range(150):
        rows, lines = [], []
        for _ in range(5):
            row = (generator.choice(islands), round(generator.uniform(30, 60), 1),
                   round(generator.uniform(13, 22), 1), float(generator.randint(170, 235)),
                   float(generator.randrange(2700, 6300, 25)), generator.randint(0, 2))
            rows.append(row)
            spelled = [row[0]] + [generator.choice([repr(v), f"{v:g}", f"{v:.3e}"])
                                  for v in row[1:5]] + [str(row[5])]
            lines.append(",".join(spelled))
        path = tmp_path / f"random{trial}.csv"
        path.write_text(f"{HEADER}\n" + "\n".join(lines) + "\n", newline="")
        assert list(validate_csv(path).records) == rows
        text = path.read_text()
        position = generator.randrange(len(HEADER) + 1, len(text) - 1)
        if text[position] == "\n":
            continue
        damaged = text[:position] + generator.choice(hostile) + text[position + 1:]
        path.write_text(damaged, newline="")
        try:
            records = list(validate_csv(path).records)
        except DataError as error:
            message = str(error)
            assert message.startswith(f"{path}:") and message.isprintable(), message
        else:
            changed = [r for r in records if r not in rows]
            assert not changed, (damaged, changed)
