from django.apps import AppConfig


class WechatConfig(AppConfig):
    name = "govcrm.channels.wechat"
    label = "channels_wechat"
