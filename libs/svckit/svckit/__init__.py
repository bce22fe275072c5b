"""Small pieces shared by the OTP and core services (errors, phones, JSON parsing, OpenAPI helpers)."""
