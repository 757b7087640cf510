"""The ``/api-keys`` area: organization API keys, shown in full once and stored hashed."""
