from django.urls import path
from orders import views

urlpatterns = [
    path("v0/orders", views.orders),
    path("v1/orders", views.orders),
    path("v2/orders", views.orders),
]
