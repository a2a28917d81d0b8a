"""到期提醒: the page of what falls due and `flask reminders send` (placeholder)."""


def test_reminders_page_answers(login_as):
    client = login_as("clerk_fin")
    response = client.get("/reminders/")
    assert response.status_code == 200, response.get_data(as_text=True)[:3000]
    print(response.get_data(as_text=True))
