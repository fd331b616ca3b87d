"""load_ts on small .ts files written by the tests."""

import numpy as np
import pytest

from skwarp import WarpClassifier
from skwarp.datasets import load_ts

HEADER = """# a comment line
@problemName {name}
@timeStamps false
@missing false
@univariate {univariate}
@equalLength {equal}
{length}@classLabel true a b
@data
"""
EQUAL_TRAIN = ["1,2,3,4:0,0,1,1:a", "4,3,2,1:1,1,0,0:b", "1,1,2,2:5,5,6,6:a"]
EQUAL_TEST = ["2,3,4,5:0,1,1,1:b"]
UNEQUAL = ["1,2,3:9,8,7:a", "1,2,3,4,5:0,0,0,0,1:b", "6,7:1,2:b"]


def write_ts(path, name, rows, equal=True, univariate=False):
    length = f"@seriesLength {len(rows[0].split(':')[0].split(','))}\n" if equal else ""
    header = HEADER.format(name=name, univariate=str(univariate).lower(),
                           equal=str(equal).lower(), length=length)
    path.write_text(header + "\n".join(rows) + "\n")
    return path


@pytest.fixture
def archive(tmp_path):
    """``<root>/Tiny/Tiny_{TRAIN,TEST}.ts`` (equal length, 2 channels)."""
    folder = tmp_path / "Tiny"
    folder.mkdir()
    write_ts(folder / "Tiny_TRAIN.ts", "Tiny", EQUAL_TRAIN)
    write_ts(folder / "Tiny_TEST.ts", "Tiny", EQUAL_TEST)
    return tmp_path


def test_equal_length_split_values_and_labels(archive):
    X, y = load_ts("Tiny", split="train", extract_path=archive)
    assert isinstance(X, np.ndarray) and X.shape == (3, 2, 4)
    np.testing.assert_array_equal(X[1], [[4, 3, 2, 1], [1, 1, 0, 0]])
    np.testing.assert_array_equal(y, ["a", "b", "a"])
    X_test, y_test = load_ts("Tiny", split="TEST", extract_path=archive)
    np.testing.assert_array_equal(X_test[0, 0], [2, 3, 4, 5])
    assert list(y_test) == ["b"]


def test_no_split_concatenates_train_then_test_and_paths_agree(archive):
    X, y = load_ts("Tiny", extract_path=archive)
    assert X.shape == (4, 2, 4) and list(y) == ["a", "b", "a", "b"]
    X_dir, _ = load_ts(archive / "Tiny")  # the dataset's folder
    X_file, _ = load_ts(archive / "Tiny" / "Tiny_TEST.ts")  # a single file
    np.testing.assert_array_equal(X_dir, X)
    np.testing.assert_array_equal(X_file, X[3:])


def test_flat_archive_layout(tmp_path):
    write_ts(tmp_path / "Flat_TRAIN.ts", "Flat", EQUAL_TRAIN)
    X, _ = load_ts("Flat", split="train", extract_path=tmp_path)
    assert X.shape == (3, 2, 4)


def test_unequal_length_gives_dataframes_a_classifier_fits(tmp_path):
    path = write_ts(tmp_path / "Uneq_TRAIN.ts", "Uneq", UNEQUAL, equal=False)
    X, y = load_ts(path)
    assert [frame.shape for frame in X] == [(3, 2), (5, 2), (2, 2)]
    np.testing.assert_array_equal(X[0].to_numpy(), [[1, 9], [2, 8], [3, 7]])
    with pytest.raises(ValueError, match="equal-length"):
        load_ts(path, return_type="numpy3D")
    clf = WarpClassifier(n_epochs=2, root_width=4, random_state=0).fit(X, y)
    assert set(clf.predict(X)) <= {"a", "b"}


def test_df_list_on_equal_lengths(archive):
    X, _ = load_ts("Tiny", split="train", extract_path=archive, return_type="df-list")
    assert isinstance(X, list) and X[2].shape == (4, 2)


def test_missing_files_name_the_paths(archive, tmp_path):
    with pytest.raises(FileNotFoundError, match="EigenWorms_TRAIN.ts"):
        load_ts("EigenWorms", split="train", extract_path=archive)
    (archive / "Tiny" / "Tiny_TEST.ts").unlink()
    with pytest.raises(FileNotFoundError, match="test file of 'Tiny'"):
        load_ts("Tiny", extract_path=archive)
    with pytest.raises(FileNotFoundError, match="no .ts file"):
        load_ts(tmp_path / "nowhere.ts")


def test_bad_arguments_and_files(archive, tmp_path):
    with pytest.raises(ValueError, match="split"):
        load_ts("Tiny", split="validation", extract_path=archive)
    with pytest.raises(ValueError, match="single .ts file"):
        load_ts(archive / "Tiny" / "Tiny_TRAIN.ts", split="train")
    with pytest.raises(ValueError, match="return_type"):
        load_ts("Tiny", extract_path=archive, return_type="nested")
    broken = tmp_path / "broken.ts"
    broken.write_text("@problemName broken\n@data\n1,2,3:a\n")
    with pytest.raises(ValueError, match="not a valid labelled .ts file"):
        load_ts(broken)


def test_dataset_shipped_with_sktime():
    X, y = load_ts("ArrowHead", split="test")
    assert X.shape == (175, 1, 251) and len(y) == 175


def test_docstring_example_runs():
    import doctest

    import skwarp.datasets

    finder = doctest.DocTestFinder()
    runner = doctest.DocTestRunner()
    for test in finder.find(skwarp.datasets.load_ts, "load_ts"):
        runner.run(test)
    failed, attempted = runner.summarize(verbose=False)
    assert failed == 0 and attempted == 3
