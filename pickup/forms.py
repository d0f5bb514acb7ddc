import io
import re
from decimal import Decimal

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from PIL import Image, UnidentifiedImageError

from couponhub.core.errors import Refused
from couponhub.core.forms import CardSheetForm
from couponhub.core.permissions import stores_for
from couponhub.core.spreadsheets import SpreadsheetError, read_rows
from pickup.models import (
    Brand,
    CardType,
    Category,
    CodeBatch,
    CodeFormat,
    Courier,
    ExportRecord,
    PickupCode,
    PickupSettings,
    PickupStore,
    Product,
    RedPacketSettings,
    SpecAttribute,
    SpecValue,
)
from pickup.selectors import DEFAULT_EXPORT_COLUMNS, EXPORT_COLUMNS
from pickup.services import BatchAction, parse_phone_list

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
LOGO_MAX_BYTES = 2 * 1024 * 1024
LOGO_MAX_SIZE = (400, 400)


class SettingsForm(forms.ModelForm):
    logo_upload = forms.FileField(
        label=_("logo"),
        required=False,
        help_text=_("PNG, JPEG or GIF up to 2 MB; resized to fit 400×400."),
    )

    class Meta:
        model = PickupSettings
        fields = [
            "name",
            "contact_phone",
            "contact_address",
            "service_hours",
            "red_packet_name",
            "pickup_notes",
            "auto_complete_days",
            "admin_phones",
        ]
        widgets = {"pickup_notes": forms.Textarea(attrs={"rows": 5})}

    def clean_admin_phones(self):
        try:
            return ",".join(parse_phone_list(self.cleaned_data.get("admin_phones", "")))
        except Refused as exc:
            raise ValidationError(exc.message) from exc

    def clean_logo_upload(self):
        upload = self.cleaned_data.get("logo_upload")
        if not upload:
            return None
        if upload.size > LOGO_MAX_BYTES:
            raise ValidationError(_("The logo is larger than 2 MB."))
        try:
            data = upload.read()
            with Image.open(io.BytesIO(data)) as probe:
                if probe.format not in {"PNG", "JPEG", "GIF"}:
                    raise ValidationError(_("The logo must be a PNG, JPEG or GIF image."))
                if probe.width * probe.height > 25_000_000:
                    raise ValidationError(_("The logo image is too large."))
                probe.verify()
            with Image.open(io.BytesIO(data)) as image:
                image = image.convert("RGBA")
                image.thumbnail(LOGO_MAX_SIZE)
                out = io.BytesIO()
                image.save(out, format="PNG")
        except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError) as exc:
            raise ValidationError(_("The logo file is not a valid image.")) from exc
        return out.getvalue()


class PickupStoreForm(forms.ModelForm):
    class Meta:
        model = PickupStore
        fields = [
            "store",
            "enabled",
            "address",
            "contact_name",
            "contact_phone",
            "manager_phone",
            "opening_hours",
            "sort_order",
        ]

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        taken = PickupStore.objects.exclude(pk=self.instance.pk).values("store")
        self.fields["store"].queryset = stores_for(user, "pickup.manage").exclude(pk__in=taken)

    def clean_manager_phone(self):
        phone = self.cleaned_data["manager_phone"].strip()
        if phone and not (phone.isdigit() and len(phone) == 11):
            raise ValidationError(_("Enter an 11-digit mobile number."))
        return phone


class CourierForm(forms.ModelForm):
    class Meta:
        model = Courier
        fields = ["name", "code", "enabled", "sort_order"]

    def clean_code(self):
        code = self.cleaned_data["code"].strip().upper()
        if not code.replace("_", "").isalnum():
            raise ValidationError(_("Use the courier company's standard code (letters/digits)."))
        return code


class CategoryForm(forms.ModelForm):
    class Meta:
        model = Category
        fields = ["name", "sort_order"]


class BrandForm(forms.ModelForm):
    class Meta:
        model = Brand
        fields = ["name", "description", "sort_order"]
        widgets = {"description": forms.Textarea(attrs={"rows": 3})}


class SpecAttributeForm(forms.ModelForm):
    values_text = forms.CharField(
        label=_("values"),
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_("One value per line, e.g. 阳澄湖 / 太湖."),
    )

    class Meta:
        model = SpecAttribute
        fields = ["name", "sort_order"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk and not self.is_bound:
            self.initial["values_text"] = "\n".join(
                self.instance.values.values_list("value", flat=True)
            )

    def clean_values_text(self):
        values = []
        for line in self.cleaned_data["values_text"].splitlines():
            value = line.strip()
            if value and value not in values:
                if len(value) > 50:
                    raise ValidationError(_("Each value may have at most 50 characters."))
                values.append(value)
        if not values:
            raise ValidationError(_("Enter at least one value."))
        return values


class ProductForm(forms.ModelForm):
    spec_values = forms.ModelMultipleChoiceField(
        label=_("specs"),
        queryset=SpecValue.objects.select_related("attribute"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    class Meta:
        model = Product
        fields = [
            "name",
            "category",
            "brand",
            "unit",
            "price",
            "spec_values",
            "description",
            "is_active",
        ]
        widgets = {"description": forms.Textarea(attrs={"rows": 5})}


class CardTypeForm(forms.ModelForm):
    product_list = forms.ModelMultipleChoiceField(
        label=_("products"),
        queryset=Product.objects.filter(is_active=True).order_by("name"),
        widget=forms.CheckboxSelectMultiple,
    )
    stores = forms.ModelMultipleChoiceField(
        label=_("allowed stores"),
        queryset=PickupStore.objects.filter(enabled=True).select_related("store"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Leave empty to allow every enabled pickup store."),
    )

    class Meta:
        model = CardType
        fields = [
            "name",
            "face_value",
            "selection",
            "choose_count",
            "product_list",
            "allow_ship",
            "allow_store_pickup",
            "stores",
            "valid_from",
            "valid_until",
            "description",
            "is_active",
        ]
        widgets = {
            "valid_from": DATE,
            "valid_until": DATE,
            "description": forms.Textarea(attrs={"rows": 3}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk and not self.is_bound:
            self.initial["product_list"] = [i.product_id for i in self.instance.items.all()]
        if self.instance.pk:
            # products already on the card stay selectable even if deactivated since
            self.fields["product_list"].queryset = Product.objects.filter(
                is_active=True
            ) | Product.objects.filter(card_items__card_type=self.instance)
            self.fields["product_list"].queryset = self.fields["product_list"].queryset.distinct()

    def clean(self):
        data = super().clean()
        if not data.get("allow_ship") and not data.get("allow_store_pickup"):
            self.add_error("allow_ship", _("Allow at least one delivery mode."))
        products = data.get("product_list") or []
        if (
            data.get("selection") == CardType.Selection.CHOOSE
            and products
            and data.get("choose_count", 1) > len(products)
        ):
            self.add_error(
                "choose_count",
                _("The card lets the holder choose more products than the list holds."),
            )
        start, end = data.get("valid_from"), data.get("valid_until")
        if start and end and end < start:
            self.add_error("valid_until", _("The end of validity is before its start."))
        return data


class GenerateForm(forms.Form):
    card_type = forms.ModelChoiceField(
        label=pgettext_lazy("pickup", "card type"), queryset=CardType.objects.filter(is_active=True)
    )
    prefix = forms.CharField(
        label=_("code prefix"),
        max_length=10,
        required=False,
        help_text=_("Optional; up to 10 letters or digits."),
    )
    code_length = forms.IntegerField(
        label=_("code length"),
        min_value=6,
        max_value=30,
        initial=12,
        help_text=_("Random characters after the prefix."),
    )
    code_format = forms.ChoiceField(
        label=_("code format"), choices=CodeFormat.choices, initial=CodeFormat.MIXED
    )
    password_length = forms.IntegerField(
        label=_("password length"), min_value=4, max_value=20, initial=8
    )
    password_format = forms.ChoiceField(
        label=_("password format"), choices=CodeFormat.choices, initial=CodeFormat.DIGITS
    )
    quantity = forms.IntegerField(
        label=_("quantity"), min_value=1, max_value=10_000_000, initial=1000
    )
    needs_activation = forms.BooleanField(
        label=_("activated at sale"),
        required=False,
        help_text=_(
            "For cards sold at the counter: the codes cannot be used until the store or its "
            "POS activates them when the card is sold."
        ),
    )

    def clean_prefix(self):
        prefix = self.cleaned_data["prefix"].strip().upper()
        if prefix and not (prefix.isascii() and prefix.isalnum()):
            raise ValidationError(_("The prefix may only hold letters and digits."))
        return prefix


class BatchChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.pk} · {obj.card_type.name} · {obj.quantity:,} · {obj.created_at:%Y-%m-%d}"


def batch_choices():
    return CodeBatch.objects.select_related("card_type")


class SelectionForm(forms.Form):
    """The four selectors of the seed: serial range, batch, card type, generation date."""

    serial_from = forms.IntegerField(label=_("serial from"), required=False, min_value=0)
    serial_to = forms.IntegerField(label=_("serial to"), required=False, min_value=0)
    batch = BatchChoiceField(
        label=_("batch"), queryset=batch_choices(), required=False, empty_label=_("any batch")
    )
    card_type = forms.ModelChoiceField(
        label=pgettext_lazy("pickup", "card type"),
        queryset=CardType.objects.all(),
        required=False,
        empty_label=_("any card type"),
    )
    date_from = forms.DateField(label=_("generated from"), required=False, widget=DATE)
    date_to = forms.DateField(label=_("generated to"), required=False, widget=DATE)

    def clean(self):
        data = super().clean()
        a, b = data.get("serial_from"), data.get("serial_to")
        if a is not None and b is not None and b < a:
            self.add_error("serial_to", _("The end of the serial range is before its start."))
        return data


class BatchActionForm(forms.Form):
    action = forms.ChoiceField(label=_("action"), choices=BatchAction.choices)
    new_card_type = forms.ModelChoiceField(
        label=_("new card type"), queryset=CardType.objects.all(), required=False
    )

    def clean(self):
        data = super().clean()
        if data.get("action") == BatchAction.CHANGE_CARD_TYPE and not data.get("new_card_type"):
            self.add_error("new_card_type", _("Choose the card type to switch to."))
        return data


class ImportForm(forms.Form):
    card_type = forms.ModelChoiceField(
        label=pgettext_lazy("pickup", "card type"), queryset=CardType.objects.all()
    )
    file = forms.FileField(
        label=_("file"),
        help_text=_(
            ".xlsx, .xls, .csv or .txt, up to 20 MB: first column the code, second the "
            "password; a header row is optional."
        ),
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        try:
            rows = read_rows(upload, filename=upload.name)
            rows.close()
        except SpreadsheetError as exc:
            raise ValidationError(exc.message) from exc
        upload.seek(0)
        return upload


class ExportForm(SelectionForm):
    columns = forms.MultipleChoiceField(
        label=_("columns"),
        choices=[(k, c.header) for k, c in EXPORT_COLUMNS.items()],
        initial=DEFAULT_EXPORT_COLUMNS,
        widget=forms.CheckboxSelectMultiple,
    )
    file_format = forms.ChoiceField(
        label=_("format"), choices=ExportRecord.Format.choices, initial="xlsx"
    )


class PrintCardsForm(SelectionForm, CardSheetForm):
    """Which codes (the four selectors) and how their cards are printed."""

    field_order = [*SelectionForm.base_fields, *CardSheetForm.base_fields]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["notes"].initial = _(
            "Scan the QR code or visit the pickup website, then enter the card number and the "
            "password under the coating."
        )


class CodeFilterForm(SelectionForm):
    status = forms.ChoiceField(
        label=_("status"),
        choices=[("", "---------"), *PickupCode.Status.choices],
        required=False,
    )
    code = forms.CharField(label=_("pickup code"), required=False)


# ---------------------------------------------------------------------------
# Consumer pages
# ---------------------------------------------------------------------------

TEXT = {"autocomplete": "off", "autocapitalize": "characters", "spellcheck": "false"}


class ConsumerCodeForm(forms.Form):
    code = forms.CharField(
        label=_("pickup code"),
        max_length=60,
        widget=forms.TextInput(attrs={**TEXT, "placeholder": _("the code on your card")}),
    )
    password = forms.CharField(
        label=_("password"),
        max_length=60,
        widget=forms.TextInput(
            attrs={**TEXT, "placeholder": _("scratch off the coating to see it")}
        ),
    )


class ConsumerOrderForm(forms.Form):
    """Products (where the card type offers a choice) and the delivery: ship or store pickup."""

    products = forms.MultipleChoiceField(
        label=_("choose products"), required=False, widget=forms.CheckboxSelectMultiple
    )
    kind = forms.ChoiceField(label=_("delivery"), widget=forms.RadioSelect)
    name = forms.CharField(label=_("recipient name"), max_length=30)
    phone = forms.CharField(
        label=_("mobile phone"),
        max_length=11,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "tel"}),
    )
    province = forms.CharField(label=_("province"), max_length=20, required=False)
    city = forms.CharField(label=_("city"), max_length=20, required=False)
    district = forms.CharField(label=_("district"), max_length=20, required=False)
    address = forms.CharField(label=_("street address"), max_length=200, required=False)
    store = forms.ModelChoiceField(
        label=_("pickup store"), queryset=PickupStore.objects.none(), required=False
    )
    pickup_date = forms.DateField(label=_("pickup date"), required=False, widget=DATE)

    def __init__(self, *args, card_type: CardType, stores, **kwargs):
        super().__init__(*args, **kwargs)
        self.card_type = card_type
        items = list(card_type.items.select_related("product"))
        if card_type.selection == CardType.Selection.CHOOSE:
            self.fields["products"].choices = [(str(i.product_id), i.product.name) for i in items]
            self.fields["products"].required = True
        else:
            del self.fields["products"]
        kinds = []
        if card_type.allow_ship:
            kinds.append(("online", _("ship to my address")))
        if card_type.allow_store_pickup:
            kinds.append(("store", _("pick up at a store")))
        self.fields["kind"].choices = kinds
        self.fields["kind"].initial = kinds[0][0]
        self.fields["store"].queryset = stores
        self.fields["pickup_date"].initial = timezone.localdate()
        self.fields["store"].label_from_instance = lambda s: f"{s.store.name}（{s.address}）"

    def clean_phone(self):
        phone = self.cleaned_data["phone"].strip()
        if not re.fullmatch(r"1\d{10}", phone):
            raise ValidationError(_("Enter an 11-digit mobile number."))
        return phone

    def clean_products(self):
        chosen = self.cleaned_data["products"]
        n = self.card_type.choose_count
        if len(chosen) != n:
            raise ValidationError(_("Choose exactly %(n)s products.") % {"n": n})
        return [int(p) for p in chosen]

    def clean(self):
        data = super().clean()
        required = {
            "online": ["province", "city", "district", "address"],
            "store": ["store", "pickup_date"],
        }.get(data.get("kind"), [])
        for name in required:
            if not data.get(name):
                self.add_error(name, _("This field is required."))
        return data


class ConsumerLookupForm(forms.Form):
    order_no = forms.CharField(
        label=_("order number"), max_length=30, widget=forms.TextInput(attrs=TEXT)
    )
    phone = forms.CharField(
        label=_("mobile phone"),
        max_length=11,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "tel"}),
    )


# ---------------------------------------------------------------------------
# Back office: orders and red packets
# ---------------------------------------------------------------------------


class ShipForm(forms.Form):
    courier = forms.ModelChoiceField(
        label=_("courier"), queryset=Courier.objects.filter(enabled=True)
    )
    tracking_no = forms.CharField(label=_("tracking number"), max_length=40)


class VerifyForm(forms.Form):
    order_no = forms.CharField(label=_("order number"), max_length=30)
    phone = forms.CharField(label=_("mobile phone"), max_length=20)


class RedPacketSettingsForm(forms.ModelForm):
    class Meta:
        model = RedPacketSettings
        fields = ["enabled", "daily_limit", "monthly_limit", "lifetime_limit"]
        help_texts = {
            "daily_limit": _("Red packets one user may claim per card type per day; 0 = no limit."),
            "monthly_limit": _(
                "Red packets one user may claim per card type per month; 0 = no limit."
            ),
            "lifetime_limit": _(
                "Red packets one user may claim per card type in all; 0 = no limit."
            ),
        }


class TopUpForm(forms.Form):
    amount = forms.DecimalField(
        label=_("amount (yuan)"), min_value=Decimal("0.01"), max_digits=10, decimal_places=2
    )
    note = forms.CharField(label=_("note"), max_length=200, required=False)


class RedPacketGenerateForm(SelectionForm):
    low = forms.DecimalField(
        label=_("lowest amount"), min_value=Decimal("0.01"), max_digits=6, decimal_places=2
    )
    high = forms.DecimalField(
        label=_("highest amount"), min_value=Decimal("0.01"), max_digits=6, decimal_places=2
    )

    def clean(self):
        data = super().clean()
        if data.get("low") and data.get("high") and data["high"] < data["low"]:
            self.add_error("high", _("The highest amount is below the lowest."))
        return data
