"""The one refusal type: a business rule said no.

Services raise `Refused(code, message, status)`: `message` is the Chinese sentence a person sees
(it names the field or the object and says why), `code` the machine word of the API's error body
(`{"error": {"code", "message"}}`), `status` the HTTP status the API answers with (400 bad input,
404 not found, 409 not in this state, 403 not yours). Views show the message; the API's one
exception handler renders the body. Anything else that escapes a service is a bug and surfaces as
a server error.
"""


class Refused(Exception):
    def __init__(self, code: str, message: str, status: int = 400, **context):
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status
        self.context = context  # e.g. coupon_code: which of several coupons was refused

    def __str__(self) -> str:
        return self.message

    def body(self) -> dict:
        return {"error": {"code": self.code, "message": self.message}}
