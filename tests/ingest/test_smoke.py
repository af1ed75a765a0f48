from tests.support.ingest import ingest_url, post_photo


def test_booth_photo_comes_back_processed(live_server, http, jpeg):
    response = post_photo(http, ingest_url(live_server.url), jpeg)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "image/jpeg"
