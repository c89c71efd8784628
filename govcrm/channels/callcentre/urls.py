app_name = "callcentre"
urlpatterns: list = []
