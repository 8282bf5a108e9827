"""Which Chromium the posting engine launches, and that it really starts."""
import os
import stat

import pytest

from driver.executable import BrowserNotFound, find_chromium, launch_args


@pytest.fixture
def fake_binary(tmp_path):
    path = tmp_path / "chromium"
    path.write_text("#!/bin/sh\nexit 0\n")
    return path


def test_a_configured_path_that_does_not_exist_is_refused_saying_what_to_install(tmp_path):
    missing = tmp_path / "no-such-chromium"

    with pytest.raises(BrowserNotFound) as caught:
        find_chromium(str(missing))

    assert str(missing) in str(caught.value)
    assert "apt-get install -y chromium" in str(caught.value)


def test_a_configured_executable_file_is_used(fake_binary):
    fake_binary.chmod(0o755)

    assert find_chromium(str(fake_binary)) == fake_binary


def test_the_configured_executable_is_read_from_the_environment(fake_binary, monkeypatch):
    fake_binary.chmod(0o755)
    monkeypatch.setenv("BROWSER_EXECUTABLE", str(fake_binary))

    assert find_chromium() == fake_binary


def test_a_configured_file_that_is_not_executable_is_refused(fake_binary):
    fake_binary.chmod(0o644)
    assert not fake_binary.stat().st_mode & (stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)

    with pytest.raises(BrowserNotFound, match="apt-get install -y chromium"):
        find_chromium(str(fake_binary))


def test_a_configured_directory_is_refused(tmp_path):
    with pytest.raises(BrowserNotFound):
        find_chromium(str(tmp_path))


def test_launch_args_disable_the_sandbox_when_running_as_root(monkeypatch):
    monkeypatch.setattr(os, "geteuid", lambda: 0)

    assert "--no-sandbox" in launch_args()


def test_launch_args_keep_the_sandbox_for_other_users(monkeypatch):
    monkeypatch.setattr(os, "geteuid", lambda: 1000)

    assert "--no-sandbox" not in launch_args()


@pytest.mark.parametrize("uid", [0, 1000])
def test_launch_args_always_stop_background_networking(monkeypatch, uid):
    monkeypatch.setattr(os, "geteuid", lambda: uid)

    assert "--disable-background-networking" in launch_args()


def test_the_found_chromium_launches_and_renders_a_page():
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(find_chromium()), args=launch_args(), headless=True)
        try:
            page = browser.new_page()
            page.set_content("<button>Post</button>")

            expect(page.get_by_role("button", name="Post")).to_be_visible()
        finally:
            browser.close()
