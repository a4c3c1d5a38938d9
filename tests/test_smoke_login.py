from tests.factories import PASSWORD


def test_circle_logs_in_on_its_resellers_host(world, browser):
    client = browser(world.a.host)
    response = client.login_circle(world.a.circle_login, PASSWORD)
    assert response.status_code == 302
    assert response.headers["Location"] == "/portal/"
    home = client.get("/portal/")
    assert home.status_code == 200
    assert "alpha circle" in home.get_data(as_text=True)
