app_name = "fax"
urlpatterns: list = []
