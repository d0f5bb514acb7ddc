from django import forms
from django.utils.translation import gettext_lazy as _

from couponhub.core.models import Org
from couponhub.core.permissions import scope_q
from products.forms import ProductChoiceField
from redemption.models import OutsideActivity, OutsideProductMapping, OutsideShop

PERM = "redemption.manage_outside"
DATE = forms.DateInput(attrs={"type": "date"})


def _orgs(user):
    return Org.objects.filter(scope_q(user, PERM, ""), is_active=True)


class BindShopForm(forms.Form):
    org = forms.ModelChoiceField(label=_("organisation"), queryset=Org.objects.none())
    name = forms.CharField(label=_("shop name"), max_length=100, initial="聚微量微商城")
    shop_id = forms.CharField(label=_("store id"), max_length=60)
    secret = forms.CharField(label=_("secret"), max_length=200, widget=forms.PasswordInput)
    callback_url = forms.URLField(
        label=_("redemption notice URL"),
        max_length=500,
        assume_scheme="https",
        required=False,
        help_text=_(
            "The shop's HTTPS address that is told, signed with its secret, when one of its "
            "coupons is redeemed; empty: it is not told."
        ),
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["org"].queryset = _orgs(user).exclude(kind=Org.Kind.STORE)


class ActivityForm(forms.ModelForm):
    product = ProductChoiceField(label=_("dish / product"), required=False)

    class Meta:
        model = OutsideActivity
        fields = [
            "org",
            "name",
            "coupon_type",
            "face_value",
            "min_order_amount",
            "per_order_limit",
            "product",
            "stores",
            "valid_from",
            "valid_to",
            "is_active",
        ]
        widgets = {"valid_from": DATE, "valid_to": DATE, "stores": forms.SelectMultiple}

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["org"].queryset = _orgs(user).exclude(kind=Org.Kind.STORE)
        self.fields["stores"].queryset = _orgs(user).filter(kind=Org.Kind.STORE)
        if self.instance.pk is None:  # a new activity is active; editing may stop it
            del self.fields["is_active"]
        else:
            self.fields["product"].keep(self.instance.product_id)

    def clean(self):
        data = super().clean()
        if data.get("coupon_type") == OutsideActivity.Type.ITEM and not data.get("product"):
            self.add_error("product", "实物券必须选择对应的菜品")
        start, end = data.get("valid_from"), data.get("valid_to")
        if start and end and end < start:
            self.add_error("valid_to", "有效期结束不能早于开始")
        return data


class MappingForm(forms.ModelForm):
    class Meta:
        model = OutsideProductMapping
        fields = ["shop", "product_id", "product_name", "activity"]

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["shop"].queryset = OutsideShop.objects.filter(
            scope_q(user, PERM, "org"), is_bound=True
        )
        self.fields["activity"].queryset = OutsideActivity.objects.filter(
            scope_q(user, PERM, "org"), is_active=True
        )


class OutsideRedeemForm(forms.Form):
    code = forms.CharField(label=_("consumption number"), max_length=40)
    order_no = forms.CharField(label=_("order number"), max_length=40, required=False)
