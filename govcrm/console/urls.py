"""The staff console: /console/…"""

from django.urls import path

from .views import auth, cases, citizens, intake, queues, search, twofactor

app_name = "console"
urlpatterns = [
    path("", queues.dashboard, name="dashboard"),
    path("login/", auth.LoginView.as_view(), name="login"),
    path("login/code/", twofactor.login_code, name="login_code"),
    path("logout/", auth.LogoutView.as_view(), name="logout"),
    path("account/security/", twofactor.security, name="security"),
    path("account/security/qr.svg", twofactor.security_qr, name="security_qr"),
    path("language/", auth.language, name="language"),
    path("queues/<slug:queue>/", queues.queue, name="queue"),
    path("cases/<str:number>/", cases.case_detail, name="case"),
    path("cases/<str:number>/actions/<slug:action>/", cases.case_action, name="case_action"),
    path("cases/<str:number>/files/<int:attachment_id>/", cases.case_attachment, name="case_attachment"),
    path("citizens/<int:citizen_id>/", citizens.citizen_detail, name="citizen"),
    path("intake/", intake.intake, name="intake"),
    path("intake/lookup", intake.lookup, name="intake_lookup"),
    path("intake/categories", intake.categories, name="intake_categories"),
    path("search/", search.search, name="search"),
]
