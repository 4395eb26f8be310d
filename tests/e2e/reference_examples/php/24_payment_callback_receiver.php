<?php
// write post parameters to file - sample code for processing the callback after successfull payment
$file_name_json = 'online-billing-service.com_callback_post_content.json';
$document_as_json = file_get_contents('php://input');
$fp_json = fopen($file_name_json, 'wt') or die('Could not open file! Make sure you have permission to create the file ' . $file_name_json);
fwrite($fp_json, $document_as_json) or die('Could not write to file! Make sure you have write permission for the file ' . $file_name_json);
fclose($fp_json);
?>
