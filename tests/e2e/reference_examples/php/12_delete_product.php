<?php
//set BASE_URL to https://online-billing-service.com/api/v1/ for production
define('BASE_URL', 'https://sandbox.online-billing-service.com/api/v1/');
//replace with the api key provided in the backend
define('API_KEY', '91b4e03e6d4a07c088921a07ab8e844c7508092cf1645b32657d6c4b5829');
$product_id = 741342701; // your product id here
$url = BASE_URL . 'products/' . $product_id . '.xml' ;
$ch = curl_init();
curl_setopt($ch, CURLOPT_CUSTOMREQUEST, "DELETE");
curl_setopt($ch, CURLOPT_RETURNTRANSFER, true);
curl_setopt($ch, CURLOPT_USERPWD, API_KEY . ":x");
curl_setopt($ch, CURLOPT_URL, $url );
curl_setopt($ch, CURLOPT_SSL_VERIFYPEER, false);
$result = curl_exec($ch);
$header = curl_getinfo($ch);
$httpCode = curl_getinfo($ch, CURLINFO_HTTP_CODE);
curl_close($ch);
if ($httpCode == 200) {
echo 'Deleted successfully';
} else {
echo '<pre> Error occured: ' . $httpCode . '</pre>';
}
?>
