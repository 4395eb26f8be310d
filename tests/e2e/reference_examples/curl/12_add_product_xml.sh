curl -H 'Content-Type: application/xml'
-X POST https://online-billing-service.com/api/v1/products.xml -u [api_key]:x \
-d '<?xml version="1.0" encoding="UTF-8"?>
<product>
<description>online-billing-service.com subscription</description>
<price>12</price>
<currency_id>1</currency_id>
</product>'
