curl -H 'Content-Type: application/xml'
-X PUT https://online-billing-service.com/api/v1/clients/1.xml -u [api_key]:x \
-d '<?xml version="1.0" encoding="UTF-8"?>
<client>
<name>Client Name</name>
<uid>999999</uid>
</client>'
