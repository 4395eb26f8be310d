curl -i -H 'Content-Type: application/xml' \
-X PUT https://online-billing-service.com/api/v1/invoices/1065253716.xml -u 123:x \
-d '<?xml version="1.0" encoding="UTF-8"?>
<invoice>
<due_days>10</due_days>
</invoice>'
