curl -i -X POST -d "client[name]=MyCompany" -d "client[uid]=999999" -u [api_key]:x https://online-billing-service.com/api/v1/clients.xml
