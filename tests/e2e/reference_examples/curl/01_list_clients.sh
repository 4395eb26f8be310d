curl -i -u [api_key]:x https://online-billing-service.com/api/v1/clients.xml
