curl -i -H 'Content-Type: application/xml' \
-X POST https://online-billing-service.com/api/v1/invoices.xml -u [api_key]:x \
-d '<?xml version="1.0" encoding="UTF-8"?>
<invoice>
<client_id>100</client_id>
<currency_id>200</currency_id>
<document_date>2011-05-20</document_date>
<document_series_id>300</document_series_id>
<document_series_counter>10</document_series_counter>
<vat_type>1</vat_type>
<document_positions>
<document_position>
<description>BASIC SUBSCRIPTION</description>
<unit>months</unit>
<unit_count>12</unit_count>
<price>12</price>
<vat>24</vat>
</document_position>
<document_position>
<type>DiscountPosition</type>
<description>Discount for advanced payment</description>
<discount_rate>10</discount_rate>
</document_position>
</document_positions>
</invoice>'
