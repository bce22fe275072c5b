"""Small pieces shared by the OTP and core services (errors, phones, OpenAPI helpers)."""
