"""Webhook signatures: Twilio's published test vectors, and the generic HMAC-SHA256 header."""

from govcrm.channels.sms.signatures import generic_signature, generic_valid, twilio_signature, twilio_valid

# The vectors of Twilio's own request-validator tests (twilio-python tests/unit/test_request_validator.py).
TOKEN = "12345"
URI = "https://mycompany.com/myapp.php?foo=1&bar=2"
PARAMS = [("CallSid", "CA1234567890ABCDE"), ("Digits", "1234"), ("From", "+14158675309"),
          ("To", "+18005551212"), ("Caller", "+14158675309")]


def test_twilio_signature_matches_twilios_vectors():
    assert twilio_signature(TOKEN, URI, PARAMS) == "RSOYDt4T1cUTdK1PDd93/VVr8B8="
    repeated = [("Sid", "CA123"), ("SidAccount", "AC123"), ("Digits", "5678"), ("Digits", "1234")]
    assert twilio_signature(TOKEN, URI, repeated) == "IK+Dwps556ElfBT0I3Rgjkr1wJU="


def test_twilio_validation_with_and_without_the_port():
    assert twilio_valid(TOKEN, URI, PARAMS, "RSOYDt4T1cUTdK1PDd93/VVr8B8=")
    assert twilio_valid(TOKEN, URI.replace(".com", ".com:1234"), PARAMS, "RSOYDt4T1cUTdK1PDd93/VVr8B8=")
    assert twilio_valid(TOKEN, URI, PARAMS, "kvajT1Ptam85bY51eRf/AJRuM3w=")  # Twilio signed with :443
    assert twilio_valid(TOKEN, URI.replace("https", "http"), PARAMS, "0ZXoZLH/DfblKGATFgpif+LLRf4=")  # :80


def test_twilio_validation_refuses_tampering_and_empty_secrets():
    assert not twilio_valid(TOKEN, URI, [*PARAMS[:-1], ("Caller", "+10000000000")], "RSOYDt4T1cUTdK1PDd93/VVr8B8=")
    assert not twilio_valid(TOKEN, URI.replace("foo=1", "foo=2"), PARAMS, "RSOYDt4T1cUTdK1PDd93/VVr8B8=")
    assert not twilio_valid("", URI, PARAMS, twilio_signature("", URI, PARAMS))
    assert not twilio_valid(TOKEN, URI, PARAMS, None)


def test_generic_signature():
    body = b'{"id": "1"}'
    header = generic_signature("s3cret", body)
    assert header.startswith("sha256=") and len(header) == 7 + 64
    assert generic_valid("s3cret", body, header)
    assert not generic_valid("s3cret", body + b" ", header)
    assert not generic_valid("other", body, header)
    assert not generic_valid("", body, generic_signature("", body))
    assert not generic_valid("s3cret", body, None)
