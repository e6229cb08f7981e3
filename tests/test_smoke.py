def test_home_page_renders_for_a_visitor(client):
    response = client.get("/")
    assert response.status_code == 200
    assert "Upcoming missions" in response.get_data(as_text=True)
