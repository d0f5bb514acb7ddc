from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from couponhub.core.permissions import permission_required
from couponhub.core.views import paginate
from members import selectors, services
from members.filters import MemberFilter
from members.forms import MemberImportForm
from members.tables import MemberImportTable, MemberTable


@permission_required("members.view")
def member_list(request):
    filterset = MemberFilter(request.GET, queryset=selectors.member_list())
    table = MemberTable(filterset.qs)
    paginate(request, table)
    return render(request, "members/member_list.html", {"filter": filterset, "table": table})


@permission_required("members.import")
def member_import(request):
    form = MemberImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        imp = services.start_member_import(actor=request.user, upload=form.cleaned_data["file"])
        messages.success(request, _("The import is queued; its result appears on the job page."))
        return redirect("core:job_detail", pk=imp.job_id)
    table = MemberImportTable(selectors.member_imports_for(request.user))
    paginate(request, table)
    return render(request, "members/member_import.html", {"form": form, "table": table})
