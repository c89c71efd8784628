"""The citizen portal at /: submit a request, track it, give feedback; optionally sign in."""

from django.urls import path

from .views import account, submit, track

app_name = "portal"
urlpatterns = [
    path("", submit.index, name="index"),
    path("categories/", submit.categories, name="categories"),
    path("submitted/<str:number>/", submit.submitted, name="submitted"),
    path("track/", track.track, name="track"),
    path("track/<str:number>/", track.case_detail, name="case"),
    path("track/<str:number>/feedback/", track.feedback, name="feedback"),
    path("track/<str:number>/reopen/", track.reopen, name="reopen"),
    path("mine/", track.mine, name="mine"),
    path("mine/forget/", track.forget, name="forget"),
    path("signin/", account.signin_start, name="signin"),
    path("signin/code/", account.signin_code, name="signin_code"),
    path("signout/", account.signout, name="signout"),
]
