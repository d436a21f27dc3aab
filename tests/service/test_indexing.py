import shutil

from index.store import current_version_dir, load_index, save_index
from service.config import Settings
from service.indexing import base_index, reconcile_uploads, writer_lock
from tests.index.test_store import make_index


def killed_write(index_dir):
    """What a write killed before it published leaves: a temp folder beside the versions."""
    partial = index_dir / "versions" / ".tmp-0123456789abcdef"
    shutil.copytree(current_version_dir(index_dir), partial)
    (partial / "manifest.json").unlink()
    return partial


def test_start_up_removes_the_temp_folder_of_a_killed_write(tmp_path):
    save_index(tmp_path, make_index(n_docs=2))
    partial = killed_write(tmp_path)
    reconcile_uploads(Settings(index_dir=tmp_path))
    assert not partial.exists()
    assert load_index(tmp_path).manifest.version == "v000001"


def test_a_write_in_progress_is_left_alone(tmp_path):
    save_index(tmp_path, make_index(n_docs=2))
    partial = killed_write(tmp_path)
    with writer_lock(tmp_path):  # another writer is at work: its temp folder is not stale
        reconcile_uploads(Settings(index_dir=tmp_path))
    assert partial.exists()


def test_a_write_builds_on_the_served_index_only_while_it_is_the_live_version(tmp_path):
    settings = Settings(index_dir=tmp_path)
    save_index(tmp_path, make_index(n_docs=2))
    served = load_index(tmp_path)
    assert base_index(settings, served) is served  # not parsed and checksummed again
    save_index(tmp_path, make_index(n_docs=3))  # another writer publishes
    base = base_index(settings, served)
    assert base is not served and base.manifest.version == "v000002" and len(base.documents) == 3
    assert base_index(settings, None).manifest.version == "v000002"
