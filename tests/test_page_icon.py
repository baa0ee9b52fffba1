"""Every page frame names an empty icon, so a browser asks for no /favicon.ico (which answers
404 and shows as an error in the console): the voter's phone page, the login page, the admin
pages."""

ICON = '<link rel="icon" href="data:,">'


def test_the_pages_name_an_icon_so_the_console_stays_clean(client, auth):
    assert client.get("/favicon.ico").status_code == 404  # there is no file to fetch
    assert ICON in client.get("/vote").get_data(as_text=True)
    assert ICON in client.get("/login").get_data(as_text=True)
    auth.login("admin")
    assert ICON in client.get("/admin/").get_data(as_text=True)
