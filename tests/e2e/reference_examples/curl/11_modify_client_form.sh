curl -X PUT https://online-billing-service.com/api/v1/clients/1.xml -u [api_key]:x \
-d 'client[name]=ClientName&client[uid]=999999'
